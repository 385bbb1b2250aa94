"""Files from elsewhere never run code (docs/robustness.md, "Files from elsewhere").

Every loader of a pickle-based file (CIFAR-10 batches and batches.meta, TensorLayer's chatbot
metadata.pkl) and of a ``.npy`` file is given hostile files that would create a marker file if any
of their code ran: ``os.system``, ``subprocess``, ``builtins.eval``/``exec``/``getattr``/
``__import__``, numpy callables that run code (``runstring``, ``numpy.load`` of a pickle), nested
REDUCE chains, the INST/OBJ/NEWOBJ/NEWOBJ_EX/BUILD opcodes, extension codes, persistent ids, at
every protocol 0-5. Each must be refused with one line naming the file, and the marker must not
exist. The real formats (pickles written by Python 2 + numpy 1.16, by nltk under Python 2 and 3)
must still load: the allow-lists are exactly what they reference.
"""
import copyreg
import io
import os
import pickle
import pickletools
import shutil
import struct
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from dlbook.files import safe_pickle
from dlbook.chat.corpus import load_tl_corpus
from dlbook.data.cifar10 import (load_cifar10_dataset, load_cifar10_label_names, read_cifar10_batch,
                                 write_cifar10_pickle)
from dlbook.data.paths import REPO_TINY_DIR
from dlbook.errors import DataError

TINY_CIFAR = REPO_TINY_DIR / "cifar10" / "cifar-10-batches-py"
REAL_FORMATS = Path(__file__).parent / "data" / "real_formats"


# ---------------------------------------------------------------- hostile pickles
def _s(text):
    """A protocol-0 string argument."""
    return b"V" + text.encode("raw_unicode_escape") + b"\n"


def _u(text):
    """A protocol-2+ unicode string argument (BINUNICODE)."""
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def _global(module, name):
    return b"c" + f"{module}\n{name}\n".encode()


class _Reduce:
    """An object that pickles as ``func(*args)``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _globals_in_order(data):
    """The (module, name) pairs a pickle names, in order, read with pickletools (nothing is run).

    STACK_GLOBAL takes its two names from the stack; they may come from the memo (BINGET), so
    strings put in and got from the memo are followed.
    """
    found, strings, memo, last = [], [], {}, None
    for opcode, arg, _ in pickletools.genops(data):
        name = opcode.name
        if name in ("GLOBAL", "INST"):
            found.append(tuple(arg.split(" ", 1)))
        elif name == "STACK_GLOBAL":
            found.append(tuple(strings[-2:]))
        if name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8"):
            strings.append(arg)
            last = arg
        elif name == "MEMOIZE":
            memo[len(memo)] = last
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = last
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            last = memo.get(arg)
            if isinstance(last, str):
                strings.append(last)
        elif name != "FRAME":
            last = None
    return found


def _touch(marker):
    return f"open({str(marker)!r}, 'w').close()"


def _evil_npy(marker):
    """A .npy file holding an object array whose element runs ``os.system`` when unpickled."""
    path = Path(marker).with_name("evil.npy")
    array = np.empty(1, dtype=object)
    array[0] = _Reduce(os.system, f"touch {marker}")
    np.save(path, array, allow_pickle=True)
    return str(path)


# Each builds the bytes of a pickle that creates ``marker`` if any of its code runs.
HOSTILE = {
    # a callable and its arguments, pickled by the pickle module at a given protocol
    **{f"os.system protocol {p}": (lambda m, p=p: pickle.dumps(_Reduce(os.system, f"touch {m}"), protocol=p))
       for p in range(0, 6)},
    "subprocess.Popen": lambda m: pickle.dumps(_Reduce(subprocess.Popen, ["touch", str(m)]), protocol=2),
    "subprocess.check_call": lambda m: pickle.dumps(_Reduce(subprocess.check_call, ["touch", str(m)]), protocol=4),
    "builtins.eval": lambda m: pickle.dumps(_Reduce(eval, _touch(m)), protocol=2),
    "builtins.exec": lambda m: pickle.dumps(_Reduce(exec, _touch(m)), protocol=3),
    "__builtin__.eval (Python 2 name)": lambda m: b"(" + _global("__builtin__", "eval") + b"(" + _s(_touch(m))
                                                  + b"tR.",
    "numpy runstring": lambda m: b"\x80\x02" + _global("numpy.testing._private.utils", "runstring")
                                 + _u(_touch(m)) + b"}\x86R.",
    "numpy.load of a pickle": lambda m: b"\x80\x02" + _global("numpy", "load") + _u(_evil_npy(m))
                                        + b"N\x88\x87R.",
    # getattr(__import__('os'), 'system')('touch marker'): three REDUCEs, each result fed to the next
    "nested REDUCE chain": lambda m: (b"\x80\x02" + _global("builtins", "getattr")
                                      + _global("builtins", "__import__") + _u("os") + b"\x85R"
                                      + _u("system") + b"\x86R" + _u(f"touch {m}") + b"\x85R."),
    # the payload deep inside a batch that otherwise looks right
    "payload inside a good batch": lambda m: pickle.dumps(
        {"data": np.zeros((1, 3072), np.uint8), "labels": [0],
         "filenames": [_Reduce(os.system, f"touch {m}")]}, protocol=2),
    # opcodes that call a class: INST (protocol 0), OBJ, NEWOBJ, NEWOBJ_EX
    "INST opcode": lambda m: b"(" + _s(f"touch {m}") + b"ios\nsystem\n.",
    "OBJ opcode": lambda m: b"(" + _global("os", "system") + _s(f"touch {m}") + b"o.",
    "NEWOBJ opcode": lambda m: (b"\x80\x02" + _global("subprocess", "Popen") + b"]" + _u("touch")
                                + b"a" + _u(str(m)) + b"a\x85\x81."),
    "NEWOBJ_EX opcode": lambda m: (b"\x80\x04" + _global("subprocess", "Popen") + b"]" + _u("touch")
                                   + b"a" + _u(str(m)) + b"a\x85}\x92."),
    # BUILD: a refused class given state, and FreqDist (allowed) given state nltk never writes
    "BUILD on a refused class": lambda m: (b"\x80\x02" + _global("subprocess", "Popen") + b")\x81"
                                           + b"}" + _u("args") + _u(f"touch {m}") + b"sb."),
    "BUILD on FreqDist": lambda m: (b"\x80\x02" + _global("nltk.probability", "FreqDist") + b"}\x85R"
                                    + b"}" + _u("most_common") + _global("os", "system") + b"sb."),
    # STACK_GLOBAL (protocol 4) naming builtins.exec
    "STACK_GLOBAL builtins.exec": lambda m: (b"\x80\x04" + _u("builtins") + _u("exec") + b"\x93"
                                             + _u(_touch(m)) + b"\x85R."),
    # an extension code registered for os.system in this process (copyreg), and a persistent id
    "EXT1 extension code": lambda m: b"\x80\x02\x82\xf0" + _u(f"touch {m}") + b"\x85R.",
    "persistent id": lambda m: b"\x80\x02" + _u("anything") + b"Q.",
}

def test_the_hostile_pickles_do_run_code_with_plain_pickle(tmp_path, monkeypatch):
    """The payloads are real: plain ``pickle.loads`` of the simple ones creates the marker."""
    for case in ("os.system protocol 0", "builtins.eval", "numpy runstring", "nested REDUCE chain", "INST opcode"):
        marker = tmp_path / f"ran-{case.replace(' ', '_')}"
        pickle.loads(HOSTILE[case](marker), encoding="latin1")
        assert marker.exists(), case


@pytest.fixture
def ext_code_for_os_system():
    """copyreg extension code 240 -> os.system, registered only during the test."""
    copyreg.add_extension("os", "system", 240)
    yield
    copyreg.remove_extension("os", "system", 240)


def _cifar_dir(tmp_path):
    directory = tmp_path / "data" / "cifar10" / "cifar-10-batches-py"
    shutil.copytree(TINY_CIFAR, directory)
    return directory


def _tl_corpus_dir(tmp_path):
    directory = tmp_path / "corpus"
    directory.mkdir()
    np.save(directory / "idx_q.npy", np.array([[2, 3, 0]], np.int32))
    np.save(directory / "idx_a.npy", np.array([[3, 2, 0]], np.int32))
    shutil.copy(REAL_FORMATS / "tl_metadata_py3_protocol3.pkl", directory / "metadata.pkl")
    return directory


def _load_test_batch(tmp_path, payload):
    directory = _cifar_dir(tmp_path)
    (directory / "test_batch").write_bytes(payload)
    load_cifar10_dataset(path=tmp_path / "data")
    return "test_batch"


def _load_training_batch(tmp_path, payload):
    directory = _cifar_dir(tmp_path)
    (directory / "data_batch_3").write_bytes(payload)
    load_cifar10_dataset(path=tmp_path / "data")
    return "data_batch_3"


def _read_one_batch(tmp_path, payload):
    (tmp_path / "some_batch").write_bytes(payload)
    read_cifar10_batch(tmp_path / "some_batch")
    return "some_batch"


def _load_meta(tmp_path, payload):
    directory = _cifar_dir(tmp_path)
    (directory / "batches.meta").write_bytes(payload)
    load_cifar10_label_names(tmp_path / "data")
    return "batches.meta"


def _load_tl_metadata(tmp_path, payload):
    directory = _tl_corpus_dir(tmp_path)
    (directory / "metadata.pkl").write_bytes(payload)
    load_tl_corpus(str(directory))
    return "metadata.pkl"


LOADERS = {
    "CIFAR-10 test_batch": _load_test_batch,
    "CIFAR-10 training batch": _load_training_batch,
    "read_cifar10_batch": _read_one_batch,
    "CIFAR-10 batches.meta": _load_meta,
    "TensorLayer metadata.pkl": _load_tl_metadata,
}


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_pickle_is_refused_and_runs_nothing(tmp_path, loader, case, ext_code_for_os_system):
    marker = tmp_path / "marker"
    payload = HOSTILE[case](marker)
    with pytest.raises(DataError) as info:
        LOADERS[loader](tmp_path, payload)
    message = str(info.value)
    assert not marker.exists(), f"{case} ran code through {loader}"
    name = {"CIFAR-10 test_batch": "test_batch", "CIFAR-10 training batch": "data_batch_3",
            "read_cifar10_batch": "some_batch", "CIFAR-10 batches.meta": "batches.meta",
            "TensorLayer metadata.pkl": "metadata.pkl"}[loader]
    assert name in message and "\n" not in message
    allowed = safe_pickle.TL_METADATA_GLOBALS if loader == "TensorLayer metadata.pkl" else safe_pickle.CIFAR10_GLOBALS
    refused = [g for g in _globals_in_order(payload) if g not in allowed]
    if case == "persistent id":
        assert "persistent id 'anything'" in message
    else:  # the first global the file names that is not allowed (EXT1 names os.system through copyreg)
        module, attribute = refused[0] if refused else ("os", "system")
        assert (f"refers to {module}.{attribute}, which such a file never holds: refused before anything "
                f"in it ran") in message


def test_freqdist_given_state_is_refused_even_with_allowed_globals(tmp_path):
    """BUILD on the allowed FreqDist with plain-data state: nltk never writes that; refused."""
    payload = (b"\x80\x02" + _global("nltk.probability", "FreqDist") + b"}\x85R"
               + b"}" + _u("most_common") + _u("x") + b"sb.")
    with pytest.raises(DataError, match=r"metadata.pkl is not a readable pickle .*FreqDist with extra state"):
        _load_tl_metadata(tmp_path, payload)


def test_hostile_npy_in_a_tl_corpus_is_refused(tmp_path):
    """idx_q.npy holding an object array (its element runs os.system when unpickled): np.load with
    allow_pickle=False refuses it, and the message names the file."""
    directory = _tl_corpus_dir(tmp_path)
    marker = tmp_path / "marker"
    shutil.move(_evil_npy(marker), directory / "idx_q.npy")
    with pytest.raises(DataError, match=r"idx_q.npy is not a plain .npy array of word ids .*allow_pickle=False"):
        load_tl_corpus(str(directory))
    assert not marker.exists()
    # the same file through numpy with pickles allowed does run the command: the test is real
    np.load(directory / "idx_q.npy", allow_pickle=True)
    assert marker.exists()


def test_no_np_load_with_pickles_in_the_package():
    """Every np.load in dlbook, chapters and scripts passes allow_pickle=False."""
    root = Path(__file__).resolve().parents[1]
    offenders = []
    for path in [*root.glob("dlbook/**/*.py"), *root.glob("chapters/**/*.py"), *root.glob("scripts/*.py")]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "np.load(" in line or "numpy.load(" in line:
                if "allow_pickle=False" not in line:
                    offenders.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert offenders == []


# ---------------------------------------------------------------- through the command line
def test_dlbook_run_1_10_6_with_a_hostile_metadata_pkl(tmp_path, capsys):
    """The issue's case: a TL corpus whose metadata.pkl calls numpy's runstring; exit 1, one line."""
    from dlbook.cli import main as dlbook
    directory = _tl_corpus_dir(tmp_path)
    marker = tmp_path / "marker"
    (directory / "metadata.pkl").write_bytes(HOSTILE["numpy runstring"](marker))
    code = dlbook(["run", "1.10.6", "--corpus", str(directory), "--output-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and not marker.exists()
    assert err.count("\n") == 1 and err.startswith("dlbook: error: TensorLayer chatbot metadata ")
    assert f"{directory / 'metadata.pkl'} refers to numpy.testing._private.utils.runstring" in err
    assert not (tmp_path / "out").exists()


def test_dlbook_run_1_10_5_with_a_hostile_test_batch(tmp_path, capsys):
    """The issue's case: a test_batch that pickles a call to os.system."""
    from dlbook.cli import main as dlbook
    directory = _cifar_dir(tmp_path)
    marker = tmp_path / "marker"
    (directory / "test_batch").write_bytes(HOSTILE["os.system protocol 2"](marker))
    code = dlbook(["run", "1.10.5", "--data-dir", str(tmp_path / "data"), "--output-dir", str(tmp_path / "out"),
                   "--epochs", "1"])
    err = capsys.readouterr().err
    assert code == 1 and not marker.exists()
    assert err.count("\n") == 1 and "test_batch refers to posix.system" in err


# ---------------------------------------------------------------- the real formats load
def _globals_of(data):
    """The (module, name) pairs a pickle references, read with pickletools (nothing is run)."""
    return set(_globals_in_order(data))


def test_allow_lists_are_exactly_the_globals_of_the_real_files():
    cifar = set()
    for name in ("cifar10_py2_test_batch", "cifar10_py2_batches.meta"):
        cifar |= _globals_of((REAL_FORMATS / name).read_bytes())
    assert cifar == {("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"), ("numpy", "dtype")}
    # the re-pickles in ../shared/data were written under numpy 2
    # plus bytes re-pickled by Python 3 at protocol 2 (admitted only as _codecs.encode(str, 'latin1'))
    assert set(safe_pickle.CIFAR10_GLOBALS) == cifar | {("numpy._core.multiarray", "_reconstruct"),
                                                        ("_codecs", "encode")}
    metadata = set()
    for path in REAL_FORMATS.glob("tl_metadata_*.pkl"):
        metadata |= _globals_of(path.read_bytes())
    assert metadata == set(safe_pickle.TL_METADATA_GLOBALS) == {("nltk.probability", "FreqDist")}


@pytest.mark.realdata
def test_shared_cifar_batches_reference_only_allowed_globals(shared_data):
    for path in (shared_data / "cifar10" / "cifar-10-batches-py").iterdir():
        assert _globals_of(path.read_bytes()) <= set(safe_pickle.CIFAR10_GLOBALS), path.name


def test_official_python2_cifar_batch_loads(tmp_path):
    """A batch written by Python 2 + numpy 1.16 with cPickle protocol 2 (the official format)."""
    data, labels = read_cifar10_batch(REAL_FORMATS / "cifar10_py2_test_batch")
    expected = np.random.RandomState(0).randint(0, 256, size=(2, 3072)).astype(np.uint8)  # as make_py2.py
    np.testing.assert_array_equal(data, expected)
    assert labels.tolist() == [3, 8] and labels.dtype == np.int32
    directory = tmp_path / "cifar10" / "cifar-10-batches-py"
    directory.mkdir(parents=True)
    shutil.copy(REAL_FORMATS / "cifar10_py2_batches.meta", directory / "batches.meta")
    assert load_cifar10_label_names(tmp_path)[9] == "truck"
    # our writer of the official format (scripts/make_tiny_data.py) names the same globals
    write_cifar10_pickle(tmp_path / "ours", {"data": expected, "labels": [3, 8]})
    assert _globals_of((tmp_path / "ours").read_bytes()) == _globals_of(
        (REAL_FORMATS / "cifar10_py2_test_batch").read_bytes())


@pytest.mark.parametrize("name", sorted(p.name for p in REAL_FORMATS.glob("tl_metadata_*.pkl")))
def test_tensorlayer_metadata_written_by_nltk_loads_without_nltk(tmp_path, monkeypatch, name):
    monkeypatch.setitem(sys.modules, "nltk", None)  # any import of nltk now fails
    directory = _tl_corpus_dir(tmp_path)
    shutil.copy(REAL_FORMATS / name, directory / "metadata.pkl")
    queries, replies, vocab = load_tl_corpus(str(directory))
    assert vocab.idx2w[:2] == ["_", "unk"] and {"happy", "birthday", "thank", "you"} <= set(vocab.idx2w)
    assert vocab.idx2w[-2:] == ["start_id", "end_id"] and queries == [[2, 3]] and replies == [[3, 2]]
    with open(directory / "metadata.pkl", "rb") as f:
        metadata = safe_pickle.RestrictedUnpickler(f, safe_pickle.TL_METADATA_GLOBALS).load()
    assert isinstance(metadata["freq_dist"], Counter) and metadata["freq_dist"]["happy"] == 2
    assert metadata["limit"] == {"maxq": 20, "minq": 0, "maxa": 20, "mina": 3}


def test_refusal_happens_before_anything_is_called():
    """The unpickler stops at the first refused global: a REDUCE of an allowed callable placed
    before it has run (it is data), but nothing after it, and no module was imported by name."""
    sys.modules.pop("this", None)
    data = b"\x80\x02(" + _global("numpy", "dtype") + _u("u1") + b"\x85R" + _global("this", "x") + b"l."
    with pytest.raises(safe_pickle.RefusedGlobal, match="this.x"):
        safe_pickle.RestrictedUnpickler(io.BytesIO(data), safe_pickle.CIFAR10_GLOBALS).load()
    assert "this" not in sys.modules  # `import this` prints the Zen of Python: it was never imported
