"""Every section as a notebook: ``dlbook notebook SECTION|all [--out DIR] [--execute]`` (docs/design.md)."""
import ast
import io
import json
import os
import sys
from pathlib import Path

from dlbook.cli.entry import in_jupyter_kernel
from dlbook.errors import UsageError
from dlbook.options import make_parser, positive_int

REPO = Path(__file__).resolve().parents[2]
CHAPTER_DIR = REPO / "chapters" / "ch01"
DEFAULT_OUT = Path("notebooks")
KERNEL = "python3"


def show_figures(*names):
    """In a Jupyter kernel, draw the named figures of ``dlbook figures`` as the cell's image
    outputs (from the same functions as the PNGs in docs/figures); elsewhere do nothing."""
    if not in_jupyter_kernel():
        return
    from IPython.display import Image, display

    from dlbook import plots
    for name in names:
        fig, _ = plots.render(name)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", metadata={"Software": None})
        display(Image(data=buffer.getvalue(), format="png"))


# --- writing and executing notebooks -------------------------------------------------------------

def section_entry(number):
    from dlbook.cli.sections import BY_NUMBER
    if number not in BY_NUMBER:
        raise UsageError(f"unknown section '{number}'; known sections: " + ", ".join(BY_NUMBER))
    return BY_NUMBER[number]


def module_path(number):
    return CHAPTER_DIR / f"{section_entry(number).module}.py"


def _header_markdown(docstring, section):
    """The keras-io header (``Title:``, ``Description:``, then free text) as markdown."""
    lines = docstring.strip("\n").splitlines()
    title, body = section.title, []
    for line in lines:
        if line.startswith("Title:"):
            title = line[len("Title:"):].strip()
        elif line.startswith("Description:"):
            body.append(line[len("Description:"):].strip())
        else:
            body.append(line)
    head = [f"# {title}", "",
            f"*Book: section {section.number} (中文版: {section.title_zh}). "
            f"Source: `chapters/ch01/{section.module}.py`, also run by `dlbook run {section.number}`.*", ""]
    return "\n".join(head + body).rstrip() + "\n"


def build_notebook(number):
    """The section's notebook (nbformat), from its module: not executed."""
    import jupytext
    import nbformat

    section = section_entry(number)
    nb = jupytext.read(module_path(number), fmt="py:percent")
    first = nb.cells[0] if nb.cells else None
    if first is not None and first.cell_type == "code":
        tree = ast.parse(first.source)
        if tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant) \
                and isinstance(tree.body[0].value.value, str):
            docstring = tree.body[0].value.value
            rest = "\n".join(first.source.splitlines()[tree.body[0].end_lineno:]).strip("\n")
            nb.cells[0] = nbformat.v4.new_markdown_cell(_header_markdown(docstring, section))
            if rest:
                nb.cells.insert(1, nbformat.v4.new_code_cell(rest))
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata.pop("jupytext", None)
    return nb


def parameters_cell(nb):
    """The cell tagged ``parameters`` (None when there is none)."""
    return next((cell for cell in nb.cells if "parameters" in cell.get("metadata", {}).get("tags", [])), None)


def notebook_options(number):
    """The ``options`` dict of the section's parameters cell (None when there is none)."""
    nb = build_notebook(number)
    cell = parameters_cell(nb)
    if cell is None:
        return None
    namespace = {}
    exec(cell.source, {"__builtins__": {"dict": dict}}, namespace)   # our own cell: literals and dict()
    return namespace.get("options")


def execute(nb, cwd, timeout=600, km=None):
    """Run every cell of ``nb`` (in place) in a fresh kernel started in ``cwd``, or in the running
    kernel of the AsyncKernelManager ``km`` (then ``cwd`` is only the notebook's path).

    Raises nbclient's CellExecutionError on the first failing cell."""
    from nbclient import NotebookClient
    client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL, km=km,
                            resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute(cwd=str(cwd))
    finally:
        if km is not None and client.kc is not None:
            client.kc.stop_channels()
    return nb


def write_notebook(number, out_dir, run=False, timeout=600, overwrite=False):
    """Write ``<out_dir>/<module>.ipynb`` (executed in ``out_dir`` when ``run``) atomically; return
    its path. A notebook already there (perhaps edited) is replaced only when ``overwrite``."""
    import nbformat
    from dlbook.files.atomic import atomic_write
    out_dir = Path(out_dir)
    path = out_dir / f"{section_entry(number).module}.ipynb"
    nb = build_notebook(number)
    text = nbformat.writes(nb) + "\n"
    if os.path.lexists(path) and not overwrite and not (run is False and _same_notebook(path, text)):
        raise UsageError(f"{path} already exists and may hold your edits: give another --out, or "
                         f"--overwrite to replace it")
    out_dir.mkdir(parents=True, exist_ok=True)
    if run:
        execute(nb, out_dir, timeout=timeout)
        text = nbformat.writes(nb) + "\n"
    atomic_write(path, text.encode("utf-8"))
    return path


def _same_notebook(path, text):
    """True when the regular file ``path`` holds the notebook ``text`` but for its random cell ids
    (the notebook written again, not edited)."""
    def cells(notebook):
        return [{k: v for k, v in cell.items() if k != "id"} for cell in notebook.get("cells", [])]
    try:
        if not Path(path).is_file() or Path(path).is_symlink():
            return False
        old, new = json.loads(Path(path).read_text("utf-8")), json.loads(text)
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(old, dict) and cells(old) == cells(new) and old.get("metadata") == new.get("metadata")


def main(argv=None):
    """``dlbook notebook SECTION|all [--out DIR] [--execute]``."""
    from dlbook.cli.sections import SECTION_LIST
    parser = make_parser(prog="dlbook notebook",
                         description="Write a section's notebook (.ipynb) from its module, to open in Jupyter.")
    parser.add_argument("section", help="a section, e.g. 1.10.4 (see 'dlbook list'), or 'all'")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="directory for the .ipynb files")
    parser.add_argument("--execute", action="store_true",
                        help="also run the notebook (in --out, with its parameters cell's quick "
                             "values) so that it is saved with its outputs")
    parser.add_argument("--timeout", type=positive_int, default=600, help="seconds allowed per cell with --execute")
    parser.add_argument("--overwrite", action="store_true", help="replace notebooks already in --out")
    args = parser.parse_args(argv)
    numbers = [s.number for s in SECTION_LIST] if args.section == "all" else [section_entry(args.section).number]
    for number in numbers:
        path = write_notebook(number, args.out, run=args.execute, timeout=args.timeout, overwrite=args.overwrite)
        print(f"{number}: {path}")
    print(f"Open {'them' if len(numbers) > 1 else 'it'} in Jupyter, e.g. 'jupyter lab {args.out}'")
    return 0


if __name__ == "__main__":
    from dlbook.cli.entry import guarded
    sys.exit(guarded(main, sys.argv[1:]))
