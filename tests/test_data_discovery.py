"""The real-data discovery rule (docs/robustness.md, "Which data a run uses").

The tiny subset stands in only when NO file of the real dataset is in the data directory. One or
more real files there but some missing, unreadable, a dangling or looping symlink, a directory in a
file's place, or a data directory that is a regular file: one error listing EACH bad file and what is
wrong with it. Malformed content: every message names the file, what was expected and what was found.
"""
import ast
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from dlbook.data import download, locate
from dlbook.data.cifar10 import load_cifar10_dataset, write_cifar10_pickle
from dlbook.data.locate import find_dataset
from dlbook.data.mnist import load_mnist_dataset, write_idx_gz
from dlbook.data.paths import MNIST_FILES, REPO_TINY_DIR, file_problem
from dlbook.errors import DataError

REPO = Path(__file__).resolve().parents[1]
TINY_MNIST = REPO_TINY_DIR / "mnist"
TINY_CIFAR = REPO_TINY_DIR / "cifar10" / "cifar-10-batches-py"
IMAGES, LABELS = "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"


@pytest.fixture
def data(tmp_path):
    """A data directory holding copies of the tiny MNIST and CIFAR-10 (the "real" data here)."""
    root = tmp_path / "data"
    shutil.copytree(TINY_MNIST, root / "mnist")
    shutil.copytree(TINY_CIFAR, root / "cifar10" / "cifar-10-batches-py")
    return root


def _error(name, root):
    """The DataError of find_dataset(name, root); fails the test if it falls back or succeeds."""
    with pytest.raises(DataError) as info:
        find_dataset(name, root, announce=False)
    message = str(info.value)
    assert "\n" not in message and "using the tiny subset" not in message
    return message


# ---------------------------------------------------------------- nothing there: the tiny subset
@pytest.mark.parametrize("layout", ["no data dir", "empty data dir", "empty mnist folder"])
def test_nothing_there_uses_the_tiny_subset(tmp_path, layout):
    root = tmp_path / "data"
    if layout != "no data dir":
        root.mkdir()
    if layout == "empty mnist folder":
        (root / "mnist").mkdir()
    location = find_dataset("mnist", root, announce=False)
    assert location.tiny and location.path == REPO_TINY_DIR
    assert location.message.endswith(f"For the full dataset: dlbook download mnist --data-dir {root}")


# ---------------------------------------------------------------- some there: each bad file listed
def test_three_of_four_mnist_files_is_an_error_not_the_tiny_subset(data):
    (data / "mnist" / TEST_LABELS).unlink()
    message = _error("mnist", data)
    assert message == (f"MNIST in {data / 'mnist'} is unusable: {TEST_LABELS} missing. The tiny subset is used "
                       f"only when none of the real files is there; run `dlbook download mnist --data-dir {data}` "
                       f"to fetch the missing files")
    with pytest.raises(DataError, match=f"is unusable: {TEST_LABELS} missing"):
        load_mnist_dataset(path=data)  # the loader says the same


def test_dangling_and_looping_symlinks_directories_and_fifos_are_each_named(data):
    mnist = data / "mnist"
    (mnist / IMAGES).unlink()
    os.symlink(data / "gone" / IMAGES, mnist / IMAGES)
    (mnist / LABELS).unlink()
    os.symlink(LABELS, mnist / LABELS)  # points at itself
    (mnist / TEST_IMAGES).unlink()
    (mnist / TEST_IMAGES).mkdir()
    (mnist / TEST_LABELS).unlink()
    os.mkfifo(mnist / TEST_LABELS)
    message = _error("mnist", data)  # must not block on the named pipe
    assert f"{IMAGES} is a dangling symlink (to {data / 'gone' / IMAGES}, which does not exist)" in message
    assert f"{LABELS} is a symlink loop" in message
    assert f"{TEST_IMAGES} is a directory, not a file" in message
    assert f"{TEST_LABELS} is not a regular file (a named pipe)" in message
    assert message.endswith("replace the broken files with good copies")


def test_missing_and_broken_together(data):
    (data / "mnist" / IMAGES).unlink()
    (data / "mnist" / TEST_IMAGES).unlink()
    os.symlink("nowhere.gz", data / "mnist" / TEST_IMAGES)
    message = _error("mnist", data)
    assert f": {IMAGES} missing; {TEST_IMAGES} is a dangling symlink (to nowhere.gz" in message
    assert message.endswith(f"replace the broken file with a good copy and run `dlbook download mnist "
                            f"--data-dir {data}` to fetch the missing ones")


def _problem_as_another_user(path):
    """file_problem(path) as seen by a user who may not read the file (root reads everything)."""
    if os.geteuid() != 0:
        return file_problem(path)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (runs in the child)
        try:
            os.close(read_end)
            os.setgid(65534)
            os.setuid(65534)  # nobody
            os.write(write_end, str(file_problem(path)).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        answer = f.read().decode()
    os.waitpid(child, 0)
    return answer


def test_an_unreadable_file_is_named():
    folder = Path(tempfile.mkdtemp(prefix="dlbook-unreadable-"))  # /tmp: other users may enter it
    try:
        os.chmod(folder, 0o755)
        secret = folder / IMAGES
        secret.write_bytes(b"x")
        os.chmod(secret, 0o000)
        assert _problem_as_another_user(secret) == "cannot be read (Permission denied)"
        os.chmod(secret, 0o644)
        assert _problem_as_another_user(secret) == "None"
    finally:
        shutil.rmtree(folder)


@pytest.mark.parametrize("where", ["data dir", "mnist folder", "dangling data dir"])
def test_a_data_dir_that_is_not_a_directory(tmp_path, where):
    if where == "data dir":
        target = tmp_path / "data"
        target.write_text("not a folder")
        expected = f"MNIST: the data directory {target} is a regular file, not a directory"
    elif where == "mnist folder":
        (tmp_path / "data").mkdir()
        target = tmp_path / "data" / "mnist"
        target.write_text("not a folder")
        expected = f"MNIST: the folder {target} is a regular file, not a directory"
    else:
        target = tmp_path / "data"
        os.symlink(tmp_path / "unmounted", target)
        expected = f"MNIST: the data directory {target} is a dangling symlink (to {tmp_path / 'unmounted'}"
    message = _error("mnist", tmp_path / "data")
    assert message.startswith(expected) and "--data-dir" in message


def test_cifar10_partial_sets(data):
    directory = data / "cifar10" / "cifar-10-batches-py"
    (directory / "test_batch").unlink()
    assert _error("cifar10", data) == (
        f"CIFAR-10 in {directory} is unusable: test_batch missing. The tiny subset is used only when none of the "
        f"real files is there; run `dlbook download cifar10 --data-dir {data}` to fetch the missing files")
    for name in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"):
        (directory / name).unlink()
    assert "data_batch_1 missing (none of data_batch_{1..5} is there; at least one is needed)" in _error("cifar10", data)


def test_cifar10_some_training_batches_is_fine_but_a_broken_one_is_not(data):
    directory = data / "cifar10" / "cifar-10-batches-py"
    for name in ("data_batch_2", "data_batch_5", "batches.meta"):
        (directory / name).unlink()
    location = find_dataset("cifar10", data, announce=False)  # optional files may be absent
    assert not location.tiny
    with pytest.warns(UserWarning, match="3 of 5 training batches"):
        assert len(load_cifar10_dataset(path=data)[0]) == 300
    os.symlink("elsewhere/data_batch_2", directory / "data_batch_2")
    assert "data_batch_2 is a dangling symlink (to elsewhere/data_batch_2" in _error("cifar10", data)


# ---------------------------------------------------------------- malformed content
def test_mnist_with_zero_images_names_the_file(data):
    write_idx_gz(data / "mnist" / IMAGES, np.zeros((0, 28, 28), np.uint8))
    write_idx_gz(data / "mnist" / LABELS, np.zeros(0, np.uint8))
    with pytest.raises(DataError) as info:
        load_mnist_dataset(path=data)
    message = str(info.value)
    assert message.startswith(f"2 MNIST files in {data / 'mnist'} are bad: ")
    assert f"{IMAGES} has 0 images (its header is valid but says 0), expected 60,000 (at least 1)" in message
    assert f"{LABELS} has 0 labels (its header is valid but says 0), expected 60,000 (at least 1)" in message
    assert "validation_size" not in message


def test_mnist_images_of_another_size_name_the_file_and_no_shape_option(data):
    write_idx_gz(data / "mnist" / TEST_IMAGES, np.zeros((600, 32, 32), np.uint8))
    with pytest.raises(DataError) as info:
        load_mnist_dataset(path=data)
    message = str(info.value)
    assert message.startswith(f"MNIST file {data / 'mnist' / TEST_IMAGES} has images of 32x32 pixels, "
                              f"expected 28x28: not MNIST images; delete it")
    assert "shape" not in message


def test_every_malformed_mnist_file_is_listed(data):
    (data / "mnist" / IMAGES).write_bytes(b"")
    write_idx_gz(data / "mnist" / TEST_LABELS, np.full(600, 11, np.uint8))
    with pytest.raises(DataError) as info:
        load_mnist_dataset(path=data)
    message = str(info.value)
    assert message == (f"2 MNIST files in {data / 'mnist'} are bad: {IMAGES} is empty or truncated (0 bytes); "
                       f"{TEST_LABELS} has "
                       f"label 11 (> 9), expected labels 0..9: corrupt. Delete them and put good copies there "
                       f"(or run `dlbook download mnist --data-dir {data}`)")


def test_every_bad_cifar10_batch_is_listed(data):
    directory = data / "cifar10" / "cifar-10-batches-py"
    (directory / "data_batch_2").write_bytes(b"garbage")
    write_cifar10_pickle(directory / "test_batch", {"data": np.zeros((0, 3072), np.uint8), "labels": []})
    with pytest.raises(DataError) as info:
        load_cifar10_dataset(path=data)
    message = str(info.value)
    assert message.startswith(f"2 CIFAR-10 files in {directory} are bad: data_batch_2 is not a readable pickle")
    assert "; test_batch has 0 images, expected at least 1 (an official batch has 10,000)." in message


# ---------------------------------------------------------------- through the command line
def test_dlbook_run_with_partial_real_data_stops_with_one_line(data, tmp_path, capsys):
    from dlbook.cli import main as dlbook
    (data / "mnist" / TEST_LABELS).unlink()
    code = dlbook(["run", "1.10.4", "--data-dir", str(data), "--output-dir", str(tmp_path / "out"), "--epochs", "1"])
    out, err = capsys.readouterr()
    assert code == 1 and "tiny" not in out
    assert err == (f"dlbook: error: MNIST in {data / 'mnist'} is unusable: {TEST_LABELS} missing. The tiny "
                   f"subset is used only when none of the real files is there; run `dlbook download mnist "
                   f"--data-dir {data}` to fetch the missing files\n")


def test_dlbook_run_with_a_data_dir_that_is_a_file(tmp_path, capsys):
    from dlbook.cli import main as dlbook
    (tmp_path / "data").write_text("")
    code = dlbook(["run", "1.10.5", "--data-dir", str(tmp_path / "data"), "--output-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith(f"dlbook: error: CIFAR-10: the data directory {tmp_path / 'data'} is a "
                                        f"regular file, not a directory") and err.count("\n") == 1


def test_dlbook_run_1_10_4_with_32x32_images(data, tmp_path, capsys):
    from dlbook.cli import main as dlbook
    write_idx_gz(data / "mnist" / IMAGES, np.zeros((3000, 32, 32), np.uint8))
    code = dlbook(["run", "1.10.4", "--data-dir", str(data), "--output-dir", str(tmp_path / "out"), "--epochs", "1"])
    err = capsys.readouterr().err
    assert code == 1 and f"{IMAGES} has images of 32x32 pixels, expected 28x28" in err and "shape=" not in err


# ---------------------------------------------------------------- dlbook download
@pytest.fixture
def local_mnist_mirror(monkeypatch):
    import gzip
    import hashlib
    md5s = {f: hashlib.md5(gzip.decompress((TINY_MNIST / f).read_bytes())).hexdigest() for f in MNIST_FILES}
    monkeypatch.setattr(download, "MNIST_MIRRORS", (TINY_MNIST.as_uri() + "/",))  # no network
    monkeypatch.setattr(download, "MNIST_MD5", md5s)


def test_dlbook_download_command(tmp_path, capsys, local_mnist_mirror):
    from dlbook.cli import main as dlbook
    assert dlbook(["download", "mnist", "--data-dir", str(tmp_path / "d")]) == 0
    assert capsys.readouterr().out == f"mnist: ready in {tmp_path / 'd' / 'mnist'}\n"
    assert not find_dataset("mnist", tmp_path / "d", announce=False).tiny
    (tmp_path / "file").write_text("")
    assert dlbook(["download", "mnist", "--data-dir", str(tmp_path / "file")]) == 1
    assert capsys.readouterr().err.startswith(f"dlbook: error: MNIST: the data directory {tmp_path / 'file'} "
                                              f"is a regular file")


def test_find_dataset_download_fills_the_gaps_but_keeps_broken_files(data, local_mnist_mirror, capsys):
    (data / "mnist" / TEST_LABELS).unlink()
    location = find_dataset("mnist", data, download=True, announce=False)
    assert not location.tiny and (data / "mnist" / TEST_LABELS).is_file()
    (data / "mnist" / TEST_LABELS).unlink()
    (data / "mnist" / IMAGES).unlink()
    os.symlink("nowhere", data / "mnist" / IMAGES)
    with pytest.raises(DataError, match=f"{IMAGES} is a dangling symlink"):
        find_dataset("mnist", data, download=True, announce=False)
    assert (data / "mnist" / TEST_LABELS).is_file()  # the missing one was fetched all the same


def test_messages_name_the_dlbook_download_command():
    """No message of the package or the chapters tells the user to run a script of the clone."""
    offenders = [f"{p.relative_to(REPO)}" for p in [*REPO.glob("dlbook/**/*.py"), *REPO.glob("chapters/**/*.py")]
                 if "scripts/download_data.py" in p.read_text()]
    assert offenders == []


def test_the_downloader_and_the_data_paths_do_not_import_tensorflow():
    code = ("import runpy, sys\n"
            "import dlbook.data.paths, dlbook.data.download, dlbook.data.locate, dlbook.data.mnist\n"
            "import dlbook.data.cifar10, dlbook.files.safe_pickle, dlbook.chat.corpus, dlbook.chat.vocab\n"
            "from dlbook.cli import main\n"
            "sys.argv = ['download_data.py', '--help']\n"
            "try:\n"
            "    runpy.run_path('scripts/download_data.py', run_name='__main__')\n"
            "except SystemExit:\n"
            "    pass\n"
            "try:\n"
            "    main(['download', '--help'])\n"
            "except SystemExit:\n"
            "    pass\n"
            "print('tensorflow imported' if 'tensorflow' in sys.modules else 'no tensorflow')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("usage: dlbook download") == 2
    assert result.stdout.rstrip().endswith("no tensorflow")


def _imports(path):
    """The dlbook.data modules ``path`` imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dlbook.data"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("dlbook.data"))
    return found


def test_no_import_cycle_inside_dlbook_data():
    modules = {f"dlbook.data.{p.stem}": _imports(p) for p in (REPO / "dlbook" / "data").glob("*.py")
               if p.stem != "__init__"}
    assert modules["dlbook.data.paths"] == set()  # the descriptions depend on nothing else here

    def reaches(start, target, seen=()):
        return any(m == target or (m not in seen and reaches(m, target, (*seen, m)))
                   for m in modules.get(start, ()))

    assert [m for m in modules if reaches(m, m)] == []
