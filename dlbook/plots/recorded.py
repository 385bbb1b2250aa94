"""Figures of recorded runs (docs/results), drawn without retraining: ``dlbook figures`` draws
each into docs/figures beside the chapter's figures."""
import numpy as np

from dlbook.plots.registry import RESULT_FIGURES
from dlbook.plots.style import new_figure


def fig_cifar10_ablation(directory=None):
    """Test accuracy per epoch of the recorded CIFAR-10 ablation runs (:mod:`dlbook.results`):
    left, the tuned recipe and each technique taken out of it (seed 0) with its seeds 1 and 2
    dotted, and each added to it; right, the listing's recipe and each technique added to it.

    data = {row: test accuracy per epoch}. Raises DataError when nothing is recorded.
    """
    from dlbook.errors import DataError
    from dlbook.results import ABLATION_DIR, load_runs, summary
    runs = load_runs(directory or ABLATION_DIR)
    if not runs:
        raise DataError(f"no recorded runs in {directory or ABLATION_DIR} (scripts/cifar_ablation.py "
                        f"records them)")
    fig, axes = new_figure(ncols=2, width=6.4, height=5.0)
    by_row = {record["row"]: record for record in runs}
    colors = [f"C{k}" for k in range(10) if k != 7]  # C7 is gray: the other recipe's line
    for ax, base, other, title in zip(axes, ("tuned", "book"), ("book", "tuned"),
                                      ("the tuned recipe, one technique out or added",
                                       "the listing's recipe, one technique added")):
        variants = iter(colors)
        for record in (r for r in runs if r["base"] == base):
            acc = 100 * np.asarray(record["history"]["test_acc"])
            same_recipe = record["row"] == base or record["seed"] != 0
            ax.plot(np.arange(1, len(acc) + 1), acc, linestyle=":" if record["seed"] != 0 else "-",
                    color="black" if same_recipe else next(variants, "C7"),
                    label=f"{record['label']}: {100 * summary(record)['final']:.1f}%")
        if other in by_row:  # the other recipe, for reference
            acc = 100 * np.asarray(by_row[other]["history"]["test_acc"])
            ax.plot(np.arange(1, len(acc) + 1), acc, color="gray", linestyle="--", linewidth=1,
                    label=f"({by_row[other]['label']}: {100 * summary(by_row[other])['final']:.1f}%)")
        ax.axhline(70, color="gray", linewidth=0.6)
        ax.set(xlabel="epoch", ylabel="test accuracy (%)", title=title, ylim=(30, 82))
        if any(not line.get_label().startswith("_") for line in ax.get_lines()):
            ax.legend(loc="lower right", fontsize=7)
    fig.suptitle("CIFAR-10, the 1.10.5 CNN: 20,000 training / 10,000 test images, 30 epochs, seed 0 "
                 "(dotted: other seeds)")
    return fig, {r["row"]: np.asarray(r["history"]["test_acc"]) for r in runs}


RESULT_FIGURES["cifar10_ablation"] = ("CIFAR-10 ablation: test accuracy per epoch", fig_cifar10_ablation)
