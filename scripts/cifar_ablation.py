"""The CIFAR-10 ablation of issue 14: the 1.10.5 CNN trained by the tuned recipe with each
technique of the chapter turned off in turn, and by the listing's recipe with each turned on;
one run per row, the same seed (0) and epoch budget (30), plus the tuned recipe at seeds 1 and 2
for the noise of one seed.

Every row is ``dlbook run 1.10.5`` (``python -m chapters.ch01.s1_10_5_cifar10_cnn``) in its own
process and run directory (``runs/ablation/<row>``); when it ends, its per-epoch history (train
and test loss and accuracy, learning rate, seconds) is copied with its command and recipe into
``docs/results/cifar10/ablation/<row>.json``, from which ``dlbook figures`` draws the curves and
``--table`` prints the README's table. A row whose JSON is there is skipped; a row whose run was
interrupted is continued with ``--resume``.

    nohup python scripts/cifar_ablation.py > runs/ablation.log 2>&1 &   # 15-35 min a row on 2 CPU cores
    python scripts/cifar_ablation.py --only tuned book                   # some rows
    taskset -c 1 python scripts/cifar_ablation.py --only book-sgd &      # two at once, one per core
    python scripts/cifar_ablation.py --table                             # the table, from the JSONs
    python scripts/cifar_ablation.py --readme                            # ... written into both READMEs
"""
import argparse
import dataclasses
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dlbook.files.atomic import write_bytes  # noqa: E402
from dlbook.recipes import BOOK, RECIPES, TUNED, Recipe, swap  # noqa: E402
from dlbook.results import ABLATION_DIR as RESULTS, load_runs, put_table, seed_note, table  # noqa: E402

MARKS = ("<!-- ablation-table -->", "<!-- /ablation-table -->")

SHARED_DATA = ROOT.parent / "shared" / "data"
EPOCHS = 30

# field -> (option, how its value is written)
_OPTIONS = {
    "optimizer": ("--optimizer", str), "learning_rate": ("--learning-rate", repr),
    "momentum": ("--momentum", repr), "schedule": ("--schedule", str),
    "warmup_epochs": ("--warmup-epochs", repr), "weight_decay": ("--weight-decay", repr),
    "dense_keep": ("--dense-keep", repr), "batch_norm": ("--batch-norm", lambda v: "on" if v else "off"),
    "augment": ("--augment", lambda v: "tf" if v else "off"), "early_stopping": ("--early-stopping", str),
    "validation_images": ("--validation-images", str),
}


@dataclasses.dataclass(frozen=True)
class Row:
    name: str       # file stem and run directory
    label: str      # what the table says
    base: str       # "tuned" or "book"
    recipe: Recipe
    seed: int = 0

    def options(self):
        """The command-line options of this row: ``--recipe`` and the fields that differ from it."""
        base = RECIPES[self.base]
        args = ["--recipe", self.base]
        for field, (option, text) in _OPTIONS.items():
            if getattr(self.recipe, field) != getattr(base, field):
                args += [option, text(getattr(self.recipe, field))]
        return args + ["--seed", str(self.seed), "--epochs", str(EPOCHS)]


def _rows():
    replace = dataclasses.replace
    rows = [
        Row("tuned", "tuned recipe", "tuned", TUNED),
        Row("tuned-seed1", "tuned recipe, seed 1", "tuned", TUNED, seed=1),
        Row("tuned-seed2", "tuned recipe, seed 2", "tuned", TUNED, seed=2),
        Row("tuned-no-weight-decay", "tuned, no weight decay (1.7.2)", "tuned", swap(TUNED, "weight_decay", BOOK)),
        Row("tuned-constant-lr", "tuned, constant learning rate (1.6.2)", "tuned", swap(TUNED, "schedule", BOOK)),
        Row("tuned-adam", "tuned, Adam 1e-4 for SGD 0.05 (1.6.2)", "tuned", swap(TUNED, "optimizer", BOOK)),
        Row("tuned-no-augmentation", "tuned, no augmentation (1.7.5)", "tuned", replace(TUNED, augment=False)),
        Row("tuned-no-batch-norm", "tuned, no batch normalization (1.7.4)", "tuned", replace(TUNED, batch_norm=False)),
        Row("tuned-dropout", "tuned + dropout keep 0.5 (1.7.3)", "tuned", replace(TUNED, dense_keep=0.5)),
        Row("tuned-early-stopping", "tuned + early stopping, patience 5 (1.7.5)", "tuned",
            replace(TUNED, early_stopping=5)),
        Row("book", "listing's recipe (Adam 1e-4)", "book", BOOK),
        Row("book-sgd", "listing + SGD 0.05 (1.6.2)", "book", swap(BOOK, "optimizer", TUNED)),
        Row("book-weight-decay", "listing + weight decay 1e-3 (1.7.2)", "book", swap(BOOK, "weight_decay", TUNED)),
        Row("book-cosine", "listing + warm-up and cosine decay (1.6.2)", "book", swap(BOOK, "schedule", TUNED)),
        Row("book-dropout", "listing + dropout keep 0.5 (1.7.3)", "book", replace(BOOK, dense_keep=0.5)),
        Row("book-early-stopping", "listing + early stopping, patience 5 (1.7.5)", "book",
            replace(BOOK, early_stopping=5)),
    ]
    return {row.name: row for row in rows}


ROWS = _rows()


def run_row(row, data_dir, runs):
    """Train one row (or continue it) in its own process; write its JSON. Returns the exit code."""
    out_dir = runs / row.name
    args = row.options() + ["--data-dir", str(data_dir), "--output-dir", str(out_dir)]
    if (out_dir / "run.json").exists():
        args.append("--resume")
    log = runs / f"{row.name}.log"
    print(f"{time.strftime('%H:%M:%S')} {row.name}: dlbook run 1.10.5 {shlex.join(args)} (log {log})", flush=True)
    with open(log, "a") as f:
        code = subprocess.call([sys.executable, "-m", "chapters.ch01.s1_10_5_cifar10_cnn", *args],
                               cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
    if code != 0:
        print(f"  {row.name} failed (exit {code}); see {log}", flush=True)
        return code
    meta = json.loads((out_dir / "run.json").read_text())
    record = {"row": row.name, "label": row.label, "base": row.base, "order": list(ROWS).index(row.name),
              "seed": row.seed,
              "recipe": dataclasses.asdict(row.recipe),
              "command": f"dlbook run 1.10.5 {shlex.join(row.options())} --data-dir ../shared/data",
              "train_images": meta["options"].get("examples"), "cpus": os.cpu_count(),
              "history": meta["history"], "restored": (meta.get("state") or {}).get("restored")}
    write_bytes(RESULTS / f"{row.name}.json", (json.dumps(record, indent=1) + "\n").encode())
    print(f"  {row.name}: final test accuracy {record['history']['test_acc'][-1]:.4f}", flush=True)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(ROWS), help="rows to run (default: all, in order)")
    parser.add_argument("--data-dir", default=str(SHARED_DATA))
    parser.add_argument("--runs", default=str(ROOT / "runs" / "ablation"), help="where the run directories go")
    parser.add_argument("--table", action="store_true", help="print the table of the recorded rows and stop")
    parser.add_argument("--readme", action="store_true",
                        help="write the table into README.md and README.zh.md (between the ablation-table marks)")
    args = parser.parse_args(argv)
    if args.table or args.readme:
        runs = load_runs(RESULTS)
        text = "\n\n".join(part for part in (table(runs), seed_note(runs)) if part)
        print(text)
        for readme in (ROOT / "README.md", ROOT / "README.zh.md") if args.readme else ():
            write_bytes(readme, put_table(readme.read_text(encoding="utf-8"), text, *MARKS).encode())
        return 0
    runs = Path(args.runs)
    runs.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name in args.only or ROWS:
        if (RESULTS / f"{name}.json").exists():
            print(f"{name}: recorded, skipped", flush=True)
            continue
        failed += run_row(ROWS[name], args.data_dir, runs) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
