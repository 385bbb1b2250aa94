"""Recorded training runs (``docs/results``): read them, sum them up, tabulate them.

The CIFAR-10 ablation (``scripts/cifar_ablation.py``) writes one JSON per run: its ``row`` name,
``label``, ``base`` recipe ("tuned" or "book"), ``order`` (its place in the table), ``seed``,
``recipe``, ``command`` and the run's ``history`` (one value per epoch: ``loss``, ``acc``,
``test_loss``, ``test_acc``, ``lr``, ``time``; ``val_acc`` with early stopping) and, with early
stopping, the ``restored`` epoch and its test accuracy. The README's table and the figure that
``dlbook figures`` draws are made from these files alone.
"""
import json
import statistics
from pathlib import Path

from dlbook.errors import DataError

ABLATION_DIR = Path(__file__).resolve().parents[1] / "docs" / "results" / "cifar10" / "ablation"
if not ABLATION_DIR.is_dir():  # an installed wheel: its copy (setup.py)
    ABLATION_DIR = Path(__file__).resolve().parent / "results_data" / "cifar10" / "ablation"
TIME_TO_ACCURACY_DIR = ABLATION_DIR.parent / "time_to_accuracy"  # scripts/time_to_accuracy.py
_FIELDS = ("row", "label", "base", "order", "seed", "command", "history")


def load_runs(directory=ABLATION_DIR):
    """The recorded runs in ``directory``, in table order: a list of dicts (empty when none)."""
    runs = []
    for path in sorted(Path(directory).glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            missing = [field for field in _FIELDS if field not in record]
            acc = record.get("history", {}).get("test_acc")
        except (OSError, ValueError, AttributeError) as exc:
            raise DataError(f"{path}: not a recorded run ({exc})") from None
        if missing or not acc:
            raise DataError(f"{path}: not a recorded run (missing {', '.join(missing) or 'history.test_acc'})")
        runs.append(record)
    return sorted(runs, key=lambda record: record["order"])


def summary(record):
    """``final`` test accuracy (of the restored weights with early stopping), ``best`` and its
    ``best_epoch`` (1-based), ``epochs`` trained, ``to_70`` (first epoch at >= 70%, None if
    never) and the median ``seconds`` an epoch took (training and evaluation)."""
    acc = record["history"]["test_acc"]
    best = max(range(len(acc)), key=acc.__getitem__)
    restored = record.get("restored")
    return {"final": restored["test_acc"] if restored else acc[-1], "best": acc[best], "best_epoch": best + 1,
            "epochs": len(acc), "to_70": next((i + 1 for i, a in enumerate(acc) if a >= 0.70), None),
            "seconds": statistics.median(record["history"]["time"])}


def table(runs):
    """The Markdown table of ``runs``: one row each. "vs recipe" is the row's final accuracy minus
    that of its base recipe's seed-0 run, in points (— when that run is not recorded or is this one)."""
    bases = {record["row"]: summary(record)["final"] for record in runs}
    lines = ["| run | final test accuracy | vs recipe | best (epoch) | epochs to 70% | s / epoch (median) |",
             "|---|---:|---:|---:|---:|---:|"]
    for record in runs:
        s = summary(record)
        base = bases.get(record["base"]) if record["row"] != record["base"] else None
        change = "—" if base is None else f"{100 * (s['final'] - base):+.2f}"
        lines.append(f"| {record['label']} | {100 * s['final']:.2f}% | {change} "
                     f"| {100 * s['best']:.2f}% ({s['best_epoch']}) | {s['to_70'] or '—'} | {s['seconds']:.0f} |")
    return "\n".join(lines)


def seed_spread(runs, base="tuned"):
    """The final accuracies of ``base``'s runs that differ from it by the seed only: a dict of
    ``seeds``, ``mean``, ``sd`` (sample standard deviation) and ``range`` (max - min), or None
    when fewer than two are recorded."""
    finals = {r["seed"]: summary(r)["final"] for r in runs
              if r["base"] == base and (r["row"] == base or r["row"].startswith(f"{base}-seed"))}
    if len(finals) < 2:
        return None
    values = list(finals.values())
    return {"seeds": sorted(finals), "mean": statistics.mean(values), "sd": statistics.stdev(values),
            "range": max(values) - min(values)}


def seed_note(runs, base="tuned"):
    """One line on the noise of one seed, for under the table ("" when fewer than two seeds)."""
    spread = seed_spread(runs, base)
    if spread is None:
        return ""
    seeds = ", ".join(map(str, spread["seeds"]))
    return (f"Seeds {seeds} of the {base} recipe: mean {100 * spread['mean']:.2f}%, standard deviation "
            f"{100 * spread['sd']:.2f} points, range {100 * spread['range']:.2f} points.")


def seconds_to(history, target):
    """(seconds, epoch): the wall-clock time, training and evaluation summed over the epochs, until
    the test accuracy first reaches ``target``, and that epoch (1-based); (None, None) if never."""
    elapsed = 0.0
    for epoch, (acc, seconds) in enumerate(zip(history["test_acc"], history["time"]), 1):
        elapsed += seconds
        if acc >= target:
            return elapsed, epoch
    return None, None


def _reached(history, target):
    seconds, epoch = seconds_to(history, target)
    return "never" if seconds is None else f"{seconds:,.0f} s (epoch {epoch})"


def time_table(runs, targets=(0.70, 0.75), base="tuned"):
    """The Markdown table of time-to-accuracy ``runs`` (scripts/time_to_accuracy.py), and under it
    each run's time to the last target as a fraction of ``base``'s."""
    head = " | ".join(f"time to {100 * t:.0f}%" for t in targets)
    lines = [f"| recipe | precision | final test accuracy | {head} | s / epoch (median) |",
             "|---|---|---:|" + "---:|" * len(targets) + "---:|"]
    for record in runs:
        history = record["history"]
        reached = " | ".join(_reached(history, t) for t in targets)
        lines.append(f"| {record['label']} | {record['precision']} | {100 * history['test_acc'][-1]:.2f}% "
                     f"| {reached} | {statistics.median(history['time']):.1f} |")
    by_row = {record["row"]: seconds_to(record["history"], targets[-1])[0] for record in runs}
    ratios = [f"{record['label']}: {by_row[record['row']] / by_row[base]:.2f}x" for record in runs
              if record["row"] != base and None not in (by_row[record["row"]], by_row.get(base))]
    if ratios:
        lines += ["", f"Time to {100 * targets[-1]:.0f}% as a fraction of the {base} recipe's: " + "; ".join(ratios) + "."]
    return "\n".join(lines)


def put_table(markdown, text, start, end):
    """``markdown`` with ``text`` between the ``start`` and ``end`` marks (``end`` added if absent)."""
    before, _, rest = markdown.partition(start)
    _, found, after = rest.partition(end)
    return f"{before}{start}\n{text}\n{end}{after if found else rest}"
