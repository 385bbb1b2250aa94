"""The chapter's computed figures, regenerated from the section code: ``dlbook figures``.

Every figure is drawn from the numbers returned by the same ``dlbook.nn`` functions that the
section modules 1.2-1.9 print (no second implementation for plotting). Each figure function
returns ``(figure, data)``: ``data`` holds exactly the numbers drawn, so tests can compare them
with the section code.

    dlbook figures                       # all figures into docs/figures/
    dlbook figures --out /tmp/figs --only fig1_19_pooling

Output is deterministic: fixed seeds, matplotlib's default style (a user's matplotlibrc is
ignored), and no software/date metadata in the PNG, so the same command twice writes the
same bytes. No display is needed: figures are rendered by the Agg canvas without pyplot.
"""
import time
from pathlib import Path

from dlbook.errors import UsageError
from dlbook.options import make_parser
from dlbook.plots import neurons, recorded, training  # noqa: F401  (they register their figures)
from dlbook.plots.registry import FIGURES, RESULT_FIGURES, SEED  # noqa: F401
from dlbook.plots.style import figure_style, png_bytes, save_png  # noqa: F401

DEFAULT_OUT = Path("docs") / "figures"


def render(name):
    """Draw one registered figure in :func:`figure_style`, titled with the book's figure
    number: returns ``(figure, data)`` (nothing is written)."""
    number, caption, draw = FIGURES[name]
    with figure_style():
        fig, data = draw()
        fig.suptitle(f"Figure {number}: {caption}")
    return fig, data


def generate_results(out_dir=DEFAULT_OUT, log=print):
    """Draw every figure of :data:`RESULT_FIGURES` that has recorded runs into ``out_dir``."""
    from dlbook.errors import DataError
    results = {}
    for name, (_, draw) in RESULT_FIGURES.items():
        try:
            with figure_style():
                fig, data = draw()
        except DataError as exc:
            if log:
                log(f"  {name}: skipped, {exc}")
            continue
        with figure_style():
            results[name] = (save_png(fig, Path(out_dir) / f"{name}.png"), data)
        if log:
            log(f"  {results[name][0]}  (from recorded runs)")
    return results


# --- writing the figures ---------------------------------------------------------------------

def generate(out_dir=DEFAULT_OUT, names=None, log=print):
    """Write the named figures (default: all) as ``<out_dir>/<name>.png``.

    Returns ``{name: (path, data)}`` with the numbers each figure drew.
    """
    results = {}
    for name in names or FIGURES:
        start = time.perf_counter()
        fig, data = render(name)
        with figure_style():   # savefig reads savefig.* settings too
            path = save_png(fig, Path(out_dir) / f"{name}.png")
        results[name] = (path, data)
        if log:
            log(f"  {path}  ({time.perf_counter() - start:.1f} s)  Figure {FIGURES[name][0]}")
    return results


def main(argv=None):
    """``dlbook figures [--out DIR] [--only NAME ...]``."""
    parser = make_parser(prog="dlbook figures",
                         description="Regenerate the chapter's computed figures as PNG files.")
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help="output directory (relative to the current directory)")
    parser.add_argument("--only", nargs="+", metavar="NAME", default=None,
                        help="figures to draw (default: all): " + ", ".join(FIGURES))
    parser.add_argument("--list", action="store_true", help="list the figures and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, (number, caption, _) in FIGURES.items():
            print(f"  {name:<28} Figure {number:<5} {caption}")
        return 0
    unknown = [n for n in args.only or [] if n not in FIGURES]
    if unknown:
        raise UsageError(f"unknown figure(s) {', '.join(unknown)}; known: {', '.join(FIGURES)} "
                         "(see 'dlbook figures --list')")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise UsageError(f"--out {args.out} is a file; give a directory")
    try:
        Path(args.out).mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # e.g. a path under a regular file, or no write permission
        raise UsageError(f"cannot create --out {args.out}: {exc.strerror}; give a directory you can "
                         f"write to") from None
    start = time.perf_counter()
    print(f"Writing {len(args.only or FIGURES)} figures to {args.out}/")
    generate(args.out, args.only)
    if not args.only:
        generate_results(args.out)
    print(f"Done in {time.perf_counter() - start:.1f} s")
    return 0
