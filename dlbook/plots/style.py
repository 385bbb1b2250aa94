"""How every figure of dlbook is drawn and saved: matplotlib's default style whatever the user's
matplotlibrc, the Agg canvas without pyplot (no display needed), PNGs written atomically with no
software or date metadata (the same drawing gives the same bytes)."""
import io
from pathlib import Path

import numpy as np

DPI = 100


def figure_style():
    """matplotlib's default style with a few readable sizes, whatever the user's matplotlibrc."""
    import matplotlib.style
    return matplotlib.style.context(["default", {
        "figure.dpi": DPI, "savefig.dpi": DPI, "font.size": 10, "axes.titlesize": 11,
        "figure.titlesize": 12, "legend.fontsize": 9, "axes.grid": True, "grid.alpha": 0.3,
    }])


def new_figure(nrows=1, ncols=1, width=4.6, height=4.0, projections=None):
    """A figure of ``nrows`` x ``ncols`` axes (:func:`render` adds the title naming the book's
    figure).

    ``projections`` gives one matplotlib projection per axes (e.g. ``[None, "3d"]``).
    Returns (figure, list of axes in row order).
    """
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    projections = projections or [None] * (nrows * ncols)
    axes = [fig.add_subplot(nrows, ncols, i + 1, projection=projection)
            for i, projection in enumerate(projections)]
    return fig, axes


def save_png(fig, path):
    """Write ``fig`` to ``path`` atomically (``dlbook.files.atomic.atomic_path``).

    The PNG carries no "Software" (matplotlib version) entry, so its bytes depend on the
    drawing only.
    """
    from dlbook.files.atomic import atomic_path
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    return path


def png_bytes(fig):
    """``fig`` as PNG bytes (for a notebook's image output), without metadata."""
    buffer = io.BytesIO()
    with figure_style():
        fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def fmt_point(values):
    """``(1, 0.5)``: a point's coordinates for a legend."""
    return "(" + ", ".join(f"{v:.3g}" for v in np.atleast_1d(values)) + ")"
