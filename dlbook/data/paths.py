"""Where the data lives: the data directory, one description per dataset, and which files are usable."""
import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from dlbook.errors import DataError

DATA_DIR_ENV = "DLBOOK_DATA_DIR"


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: what its files are, where they go, and where to download them.

    ``files`` are the file names in ``subdir`` (of the data directory); ``required`` those that
    must be there; ``one_of`` groups of which at least one must be there (CIFAR-10's training
    batches). ``md5`` is per file (MNIST: of the decompressed content, since mirrors re-compress)
    or ``archive_md5`` of the archive the files come from; ``mirrors`` are base URLs (MNIST) or
    archive URLs (CIFAR-10). ``train_images`` / ``test_images`` are the official counts and
    ``download_mb`` the size of the download, for messages.
    """

    name: str
    label: str
    subdir: Path
    files: tuple
    required: tuple
    one_of: tuple = ()
    unpacked_ok: bool = False  # MNIST: a file may also be there decompressed, without its .gz
    md5: dict = field(default_factory=dict)
    mirrors: tuple = ()
    archive: str = ""
    archive_dir: str = ""
    archive_md5: str = ""
    train_images: int = 0
    test_images: int = 0
    download_mb: int = 0
    what: str = ""  # what to put in the folder, for messages

    def directory(self, root):
        """The folder holding the files under data directory ``root``."""
        return Path(root) / self.subdir

    def file(self, root, filename):
        """The path of ``filename`` under ``root``; for MNIST the unpacked file when only it is there."""
        path = self.directory(root) / filename
        if self.unpacked_ok and not os.path.lexists(path) and os.path.lexists(path.with_suffix("")):
            return path.with_suffix("")
        return path


MNIST = DatasetSpec(
    name="mnist", label="MNIST", subdir=Path("mnist"),
    files=("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
           "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
    required=("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
    unpacked_ok=True,
    md5={  # of the DECOMPRESSED files: mirrors re-compress, so the .gz bytes differ between them
        "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cddbe9a8fdcd0ef7c51",
    },
    # errata: mnist-mirrors (yann.lecun.com, TensorLayer's only source, answers 403)
    mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
             "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    train_images=60000, test_images=10000, download_mb=11,
    what="the four official files",
)

CIFAR10 = DatasetSpec(
    name="cifar10", label="CIFAR-10", subdir=Path("cifar10") / "cifar-10-batches-py",
    files=tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch", "batches.meta"),
    required=("test_batch",),
    one_of=(tuple(f"data_batch_{i}" for i in range(1, 6)),),
    mirrors=("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
    archive="cifar-10-python.tar.gz", archive_dir="cifar-10-batches-py",
    archive_md5="c58f30108f718f92721af3b95e74349a",
    train_images=50000, test_images=10000, download_mb=163,
    what="data_batch_1..5, test_batch and batches.meta from cifar-10-python.tar.gz",
)

SPECS = {spec.name: spec for spec in (MNIST, CIFAR10)}
DATASETS = tuple(SPECS)

# The names other modules have imported from here.
MNIST_FILES = MNIST.files
CIFAR10_SUBDIR = CIFAR10.subdir
CIFAR10_TRAIN_BATCHES = CIFAR10.one_of[0]
CIFAR10_TEST_BATCH = "test_batch"
CIFAR10_META = "batches.meta"

# data/tiny next to the dlbook package, so a clean clone finds it from any working directory; an
# installed wheel carries a copy in dlbook/data/tiny (setup.py).
REPO_TINY_DIR = Path(__file__).resolve().parents[2] / "data" / "tiny"
if not REPO_TINY_DIR.is_dir():
    REPO_TINY_DIR = Path(__file__).resolve().parent / "tiny"


def dataset_spec(name):
    """The :class:`DatasetSpec` of ``name`` ("mnist" or "cifar10"), or a DataError."""
    try:
        return SPECS[name]
    except (KeyError, TypeError):
        raise DataError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}") from None


def resolve_data_dir(data_dir=None):
    """The data directory: ``data_dir`` if given, else ``$DLBOOK_DATA_DIR``, else ``./data``."""
    if data_dir is None or str(data_dir) == "":
        data_dir = os.environ.get(DATA_DIR_ENV) or "data"
    return Path(data_dir).expanduser()


def display_path(path):
    """``path`` relative to the working directory when it is inside it (for messages)."""
    path = Path(path)
    try:
        return str(Path(os.path.abspath(path)).relative_to(os.path.abspath(Path.cwd())))
    except ValueError:
        return str(path)


def download_command(name, data_dir=None):
    """The shell command that downloads dataset ``name`` into ``data_dir``."""
    command = f"dlbook download {name}"
    if data_dir is not None and resolve_data_dir(data_dir) != resolve_data_dir(None):
        command += f" --data-dir {display_path(data_dir)}"
    return command


def mnist_file(directory, filename):
    """The MNIST file ``filename`` in ``directory``: the ``.gz`` or, failing that, the unpacked file.

    Returns the ``.gz`` path when neither exists (the name shown in error messages).
    """
    gz = Path(directory) / filename
    raw = gz.with_suffix("")
    return raw if not os.path.lexists(gz) and os.path.lexists(raw) else gz


def dataset_dir(name, root):
    """The directory holding dataset ``name``'s files under data directory ``root``."""
    return dataset_spec(name).directory(root)


# ---------------------------------------------------------------- which files are there
def file_problem(path):
    """What makes ``path`` unusable as a data file, or None when it is a readable regular file.

    Looks at the file system entry only (``lstat``, ``stat``, ``open``), never at the content:
    "missing", "is a dangling symlink (to ...)", "is a symlink loop", "is a directory, not a
    file", "is not a regular file", "cannot be read (Permission denied)".
    """
    path = Path(path)
    try:
        entry = os.lstat(path)
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"cannot be looked at ({exc.strerror})"
    try:
        target = os.stat(path)
    except FileNotFoundError:
        return f"is a dangling symlink (to {os.readlink(path)}, which does not exist)"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symlink loop"
        return f"cannot be looked at ({exc.strerror})"
    if stat.S_ISDIR(target.st_mode):
        return "is a directory, not a file"
    if not stat.S_ISREG(target.st_mode):
        via = "a symlink to " if stat.S_ISLNK(entry.st_mode) else ""
        return f"is not a regular file ({via}a {_kind(target.st_mode)})"
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    return None


def _kind(mode):
    return ("named pipe" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode)
            else "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "special file")


def folder_problem(path):
    """What makes ``path`` unusable as a folder: None when it is a directory or does not exist."""
    path = Path(path)
    if not os.path.lexists(path):
        return None
    try:
        if stat.S_ISDIR(os.stat(path).st_mode):
            return None
    except FileNotFoundError:
        return f"is a dangling symlink (to {os.readlink(path)}, which does not exist)"
    except OSError as exc:
        return "is a symlink loop" if exc.errno == errno.ELOOP else f"cannot be looked at ({exc.strerror})"
    return "is a regular file, not a directory" if path.is_file() else "is not a directory"


@dataclass(frozen=True)
class Survey:
    """What :func:`survey` found for one dataset under one data directory.

    ``present``: the dataset's files that exist (even as broken symlinks); ``problems``: a list
    of ``(path, what is wrong)``, every missing required file and every unusable entry;
    ``folder``: ``(path, what is wrong)`` when the data directory or a folder on the way to the
    files is not a directory (then nothing below it was looked at); ``absent_optional``: files
    that may be missing (CIFAR-10 training batches when another one is there, ``batches.meta``).
    """

    spec: DatasetSpec
    root: Path
    present: tuple = ()
    problems: tuple = ()
    absent_optional: tuple = ()
    folder: tuple = ()

    @property
    def nothing_there(self):
        """No file of the dataset is there and no folder on the way is broken: the tiny subset may stand in."""
        return not self.present and not self.folder

    @property
    def missing(self):
        """The required files that are absent (the ones a download fetches)."""
        return [path for path, what in self.problems if what.startswith("missing")]


def survey(name, root):
    """Look at dataset ``name``'s files under data directory ``root`` (see :class:`Survey`)."""
    spec = dataset_spec(name)
    root = Path(root)
    for folder in [root] + [root.joinpath(*spec.subdir.parts[:i + 1]) for i in range(len(spec.subdir.parts))]:
        problem = folder_problem(folder)
        if problem:
            return Survey(spec, root, folder=(folder, problem))
    present, problems, optional = [], [], []
    for filename in spec.files:
        path = spec.file(root, filename)
        problem = file_problem(path)
        if problem != "missing":
            present.append(path)
            if problem:
                problems.append((path, problem))
        elif filename in spec.required:
            problems.append((path, problem))
        else:
            optional.append(path)
    for group in spec.one_of:
        if not any(spec.file(root, f) in present for f in group):
            problems.append((spec.file(root, group[0]),
                             f"missing (none of {_span(group)} is there; at least one is needed)"))
    return Survey(spec, root, tuple(present), tuple(problems), tuple(optional))


def _span(names):
    return f"{names[0][:-1]}{{1..{len(names)}}}" if len(names) > 2 else ", ".join(names)


def missing_files(name, root):
    """The required files of dataset ``name`` missing under data directory ``root`` (empty: complete).

    For CIFAR-10 the test batch and at least one training batch are required.
    """
    return survey(name, root).missing


def missing_data_error(name, root, missing, *, data_dir=None):
    """The DataError for dataset ``name``'s files ``missing`` under data directory ``root``."""
    spec = dataset_spec(name)
    command = download_command(name, root if data_dir is None else data_dir)
    files = display_path(missing[0]) if len(missing) == 1 else ", ".join(Path(p).name for p in missing)
    return DataError(f"{spec.label} file{'s' if len(missing) > 1 else ''} not found: {files} "
                     f"(searched {display_path(spec.directory(root))}). Put {spec.what} there, or run "
                     f"`{command}`, or point --data-dir / $DLBOOK_DATA_DIR at a folder holding "
                     f"{spec.subdir.parts[0]}/")


def survey_error(found, *, data_dir=None):
    """The DataError for a :class:`Survey` with problems: each missing or unusable file, and the fix."""
    spec, root = found.spec, found.root
    command = download_command(spec.name, root if data_dir is None else data_dir)
    directory = spec.directory(root)
    if found.folder:
        path, what = found.folder
        name = "the data directory" if Path(path) == root else "the folder"
        return DataError(f"{spec.label}: {name} {display_path(path)} {what}; point --data-dir (or "
                         f"$DLBOOK_DATA_DIR) at a folder that holds {spec.subdir.parts[0]}/, or move "
                         f"{display_path(path)} away")
    problems = list(found.problems)
    if not found.present:  # nothing there at all: the loader was asked for this directory
        return missing_data_error(spec.name, root, [p for p, _ in problems], data_dir=data_dir)
    listed = "; ".join(f"{p.name} {what}" for p, what in problems)
    missing = any(what.startswith("missing") for _, what in problems)
    broken = len(problems) - len(found.missing)
    fix = (f"run `{command}` to fetch the missing files" if not broken else
           f"replace the broken {'files with good copies' if broken > 1 else 'file with a good copy'}"
           + (f" and run `{command}` to fetch the missing ones" if missing else ""))
    return DataError(f"{spec.label} in {display_path(directory)} is unusable: {listed}. The tiny subset "
                     f"is used only when none of the real files is there; {fix}")


def check_files(name, root, *, data_dir=None):
    """The :class:`Survey` of dataset ``name`` under ``root``, or a DataError listing each bad file."""
    found = survey(name, root)
    if found.problems:
        raise survey_error(found, data_dir=data_dir)
    return found
