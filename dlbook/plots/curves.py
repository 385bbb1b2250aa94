"""Training curves of a run (1.10.4, 1.10.5, 1.10.6): loss and accuracy per epoch, on the
training data and on the validation or test data, drawn from the history its run.json records.

    dlbook plot runs/mnist_mlp           # -> runs/mnist_mlp/curves.png

A notebook shows them after the section's run (:func:`show_curves`).
"""
import math
from pathlib import Path

from dlbook.errors import CheckpointError, UsageError
from dlbook.plots.style import figure_style, new_figure, png_bytes, save_png

CURVES_NAME = "curves.png"
#: One panel per metric recorded, in this order: (history key, axis label).
PANELS = (("loss", "loss"), ("acc", "accuracy"))
#: The lines of a panel: (prefix of the history key, legend label).
SPLITS = (("", "train"), ("val_", "validation"), ("test_", "test"))


def read_history(run_dir):
    """``(history, meta)`` of the run in ``run_dir``, read by the run directory's own reader."""
    from dlbook.session.rundir import RUN_FILE, RunDir
    meta = RunDir(run_dir).read_meta()
    if meta is None:
        raise UsageError(f"{run_dir} holds no dlbook run ({RUN_FILE} not found): give the --output-dir "
                         f"of a training run, e.g. runs/mnist_mlp")
    history = meta.get("history")
    curves = {f"{prefix}{key}" for key, _ in PANELS for prefix, _ in SPLITS}
    if not isinstance(history, dict) or not all(_numbers(history[k]) for k in curves & set(history)):
        raise CheckpointError(f"{Path(run_dir) / RUN_FILE}: its history is not lists of numbers per "
                              f"epoch; --overwrite starts a new run there")
    if not any(history.get(key) for key, _ in PANELS):
        raise UsageError(f"{run_dir}: the run has no completed epoch yet, so there is nothing to plot")
    return history, meta


def _numbers(values):
    return isinstance(values, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                            for v in values)


def draw_curves(history, title=None):
    """One panel per metric of :data:`PANELS` in ``history``, a line per split recorded.

    Returns ``(figure, data)``, data = {history key: the values drawn}."""
    from matplotlib.ticker import MaxNLocator
    panels = [(key, label) for key, label in PANELS if history.get(key)]
    fig, axes = new_figure(ncols=len(panels), width=4.4, height=3.4)
    data = {}
    for ax, (key, label) in zip(axes, panels):
        for prefix, split in SPLITS:
            values = history.get(prefix + key) or []
            if values:
                data[prefix + key] = list(values)
                ax.plot(range(1, len(values) + 1), [v if math.isfinite(v) else math.nan for v in values],
                        marker="o" if len(values) <= 30 else None, markersize=3, label=split)
        epochs = max(len(history.get(prefix + key) or []) for prefix, _ in SPLITS)
        ax.set(xlabel="epoch", ylabel=label, xlim=(0.5, epochs + 0.5))
        if epochs <= 12:
            ax.set_xticks(range(1, epochs + 1))
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig, data


def run_title(meta, run_dir):
    """``dlbook run 1.10.4: 10 epochs (runs/mnist_mlp)``."""
    program = (meta.get("options") or {}).get("program") or "a dlbook run"
    return f"{program}: {meta.get('epoch')} epoch(s) ({Path(run_dir).name})"


def render_run(run_dir):
    """The curves of the run in ``run_dir``: ``(figure, data)``."""
    history, meta = read_history(run_dir)
    with figure_style():
        return draw_curves(history, run_title(meta, run_dir))


def plot_run(run_dir, out=None):
    """Write the curves of the run in ``run_dir`` to ``out`` (default RUN_DIR/curves.png),
    atomically; returns the path."""
    fig, _ = render_run(run_dir)
    with figure_style():
        return save_png(fig, Path(out) if out else Path(run_dir) / CURVES_NAME)


def show_curves(run_dir):
    """In a notebook: the run's curves as the cell's image output."""
    from IPython.display import Image, display
    fig, _ = render_run(run_dir)
    display(Image(data=png_bytes(fig), format="png"))


def main(argv=None):
    """``dlbook plot RUN_DIR [--out FILE]``."""
    from dlbook.options import make_parser
    parser = make_parser(prog="dlbook plot", description="Draw a training run's loss and accuracy per "
                         "epoch (from its run.json) as a PNG.")
    parser.add_argument("run_dir", metavar="RUN_DIR", help="the --output-dir of a 1.10.4, 1.10.5 or 1.10.6 run")
    parser.add_argument("--out", default=None, help=f"the PNG to write (default: RUN_DIR/{CURVES_NAME})")
    args = parser.parse_args(argv)
    if not Path(args.run_dir).is_dir():
        raise UsageError(f"{args.run_dir} is not a directory: give the --output-dir of a training run")
    print(f"curves written to {plot_run(args.run_dir, args.out)}")
    return 0
