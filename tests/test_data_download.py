"""Downloads against LOCAL fake mirrors only (file:// URLs, an http.server on 127.0.0.1, a socket
that never answers): success with fallback to the next mirror, checksum mismatch, timeout, and
never a partial file under a final name."""
import contextlib
import functools
import gzip
import hashlib
import http.server
import socket
import tarfile
import threading

import numpy as np
import pytest

from dlbook.data import download, load_cifar10_dataset, load_mnist_dataset
from dlbook.data.paths import MNIST_FILES, REPO_TINY_DIR
from dlbook.errors import DataError

TINY_MNIST = REPO_TINY_DIR / "mnist"
TINY_CIFAR = REPO_TINY_DIR / "cifar10" / "cifar-10-batches-py"
TIMEOUT = 0.5  # seconds: the bound of the timeout test (per mirror)


@pytest.fixture(scope="module")
def tiny_md5s():
    return {f: hashlib.md5(gzip.decompress((TINY_MNIST / f).read_bytes())).hexdigest() for f in MNIST_FILES}


@pytest.fixture(scope="module")
def cifar_archive(tmp_path_factory):
    """A cifar-10-python.tar.gz built from the tiny batches, and its md5."""
    archive = tmp_path_factory.mktemp("mirror") / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        for f in sorted(TINY_CIFAR.iterdir()):
            tar.add(f, arcname=f"cifar-10-batches-py/{f.name}")
    return archive, hashlib.md5(archive.read_bytes()).hexdigest()


@contextlib.contextmanager
def serve(directory):
    """An HTTP server for ``directory`` on 127.0.0.1 in a daemon thread; yields its base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def silent_server():
    """A TCP port that accepts connections (kernel backlog) but never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        sock.close()


def _leftovers(directory):
    return sorted(p.name for p in directory.rglob("*") if p.name.startswith(".") or p.suffix == ".part")


def test_mnist_download_falls_back_to_next_mirror(tmp_path, tiny_md5s):
    empty_mirror = (tmp_path / "empty-mirror").as_uri() + "/"
    directory = download.download_mnist(tmp_path / "data", mirrors=[empty_mirror, TINY_MNIST.as_uri() + "/"],
                                        md5s=tiny_md5s, progress=False)
    assert directory == tmp_path / "data" / "mnist" and _leftovers(directory) == []
    for f in MNIST_FILES:
        assert (directory / f).read_bytes() == (TINY_MNIST / f).read_bytes()
    assert len(load_mnist_dataset(path=tmp_path / "data")[0]) == 2500


def test_mnist_download_over_http_with_progress(tmp_path, tiny_md5s, capsys):
    with serve(TINY_MNIST) as url:
        download.download_mnist(tmp_path, mirrors=[url], md5s=tiny_md5s, timeout=5)
    err = capsys.readouterr().err
    assert f"Downloading {url}train-images-idx3-ubyte.gz" in err and "100%" in err
    for f in MNIST_FILES:
        assert (tmp_path / "mnist" / f).read_bytes() == (TINY_MNIST / f).read_bytes()


def test_mnist_checksum_mismatch_leaves_no_file(tmp_path):
    """The tiny files are not the real MNIST: against the real md5s every mirror is rejected."""
    with pytest.raises(DataError) as info:
        download.download_mnist(tmp_path, mirrors=[TINY_MNIST.as_uri() + "/"], progress=False)
    message, name = str(info.value), MNIST_FILES[0]
    found = hashlib.md5(gzip.decompress((TINY_MNIST / name).read_bytes())).hexdigest()
    assert f"could not download {name}" in message
    assert f"checksum mismatch (md5 {found}, expected {download.MNIST_MD5[name]})" in message
    assert "dlbook download mnist --data-dir" in message and "\n" not in message
    assert list((tmp_path / "mnist").iterdir()) == []


def test_mnist_timeout_is_one_clear_error(tmp_path, tiny_md5s):
    with silent_server() as url:
        with pytest.raises(DataError, match=r"could not download .*127\.0\.0\.1:\d+: timed out") as info:
            download.download_mnist(tmp_path, mirrors=[url], md5s=tiny_md5s, timeout=TIMEOUT, progress=False)
    assert "MNIST files not found" in str(info.value)
    assert list((tmp_path / "mnist").iterdir()) == []


def test_mnist_partial_download_is_rejected(tmp_path, tiny_md5s):
    """A mirror serving a truncated .gz: not a valid gzip, never installed under its final name."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for f in MNIST_FILES:
        data = (TINY_MNIST / f).read_bytes()
        (mirror / f).write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="not a valid gzip file"):
        download.download_mnist(tmp_path / "data", mirrors=[mirror.as_uri() + "/"], md5s=tiny_md5s, progress=False)
    assert list((tmp_path / "data" / "mnist").iterdir()) == []


def test_loader_download_option_uses_the_mirror_list(tmp_path, tiny_md5s, monkeypatch):
    monkeypatch.setattr(download, "MNIST_MIRRORS", (TINY_MNIST.as_uri() + "/",))
    monkeypatch.setattr(download, "MNIST_MD5", tiny_md5s)
    with pytest.raises(DataError, match="not found"):
        load_mnist_dataset(path=tmp_path)  # download=False: the library default
    X_train = load_mnist_dataset(path=tmp_path, download=True)[0]
    np.testing.assert_array_equal(X_train, load_mnist_dataset(path=REPO_TINY_DIR)[0])


def test_download_script_main(tmp_path, tiny_md5s, monkeypatch, capsys):
    monkeypatch.setattr(download, "MNIST_MIRRORS", (TINY_MNIST.as_uri() + "/",))
    monkeypatch.setattr(download, "MNIST_MD5", tiny_md5s)
    assert download.main(["mnist", "--data-dir", str(tmp_path)]) == 0
    assert download.main(["mnist", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("mnist: ready in") and out[1].startswith("mnist: already in")


def test_cifar_download_extracts_and_removes_archive(tmp_path, cifar_archive):
    archive, md5 = cifar_archive
    with serve(archive.parent) as url:
        directory = download.download_cifar10(tmp_path, urls=[url + archive.name], md5=md5, progress=False)
    assert sorted(p.name for p in directory.iterdir()) == sorted(p.name for p in TINY_CIFAR.iterdir())
    assert _leftovers(tmp_path) == [] and not (tmp_path / "cifar10" / archive.name).exists()
    X_train, _, X_test, _ = load_cifar10_dataset(path=tmp_path)
    assert X_train.shape == (500, 32, 32, 3) and X_test.shape == (200, 32, 32, 3)


def test_cifar_checksum_mismatch_extracts_nothing(tmp_path, cifar_archive):
    archive, _ = cifar_archive
    with pytest.raises(DataError, match=r"could not download cifar-10-python.tar.gz \(.*checksum mismatch"):
        download.download_cifar10(tmp_path, urls=[archive.as_uri()], progress=False)
    assert list((tmp_path / "cifar10").rglob("*")) == [tmp_path / "cifar10" / "cifar-10-batches-py"]
