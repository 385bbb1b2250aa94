"""Time to accuracy on CIFAR-10: the 1.10.5 CNN trained by the tuned recipe and by the fast one, and
by the tuned one on TensorFlow's default kernels, one after the other on the same machine, and the wall-clock seconds (training and evaluation) each
takes until its test accuracy first reaches 70% and 75%.

Each row is ``dlbook run 1.10.5`` in its own process and run directory (``runs/time_to_accuracy/<row>``);
its per-epoch history, command, precision and machine go to
``docs/results/cifar10/time_to_accuracy/<row>.json``, from which ``--table`` prints the README's table.
Every row is trained again on each call (a time is only comparable to one measured beside it).

    taskset -c 0,1 python scripts/time_to_accuracy.py     # every row, ~45 min on 2 quiet cores
    python scripts/time_to_accuracy.py --table             # the table, from the recorded rows
    python scripts/time_to_accuracy.py --readme            # ... written into both READMEs
"""
import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dlbook.files.atomic import write_bytes  # noqa: E402
from dlbook.results import TIME_TO_ACCURACY_DIR as RESULTS, load_runs, put_table, time_table  # noqa: E402

SHARED_DATA = ROOT.parent / "shared" / "data"
MARKS = ("<!-- time-to-accuracy-table -->", "<!-- /time-to-accuracy-table -->")
ROWS = {  # name -> (label, options, environment)
    "tuned": ("tuned recipe (30 epochs)", ["--recipe", "tuned"], {}),
    "fast": ("fast recipe (20 epochs)", ["--recipe", "fast"], {}),
    # as every recipe ran before dlbook turned on oneDNN (the default of TensorFlow on an AVX2 CPU)
    "tuned-eigen": ("tuned recipe, TensorFlow's default kernels (Eigen)", ["--recipe", "tuned"],
                    {"TF_ENABLE_ONEDNN_OPTS": "0"}),
}


def cpu():
    """This machine's processor name and whether it has bfloat16 instructions."""
    flags, name = set(), platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    except OSError:
        pass
    return {"name": name, "cores": os.cpu_count(), "bf16": bool(flags & {"avx512_bf16", "amx_bf16"})}


def run_row(name, data_dir, runs):
    """Train one row from scratch in its own process; write its JSON. Returns the exit code."""
    label, options, env = ROWS[name]
    out_dir, log = runs / name, runs / f"{name}.log"
    args = options + ["--data-dir", str(data_dir), "--output-dir", str(out_dir), "--overwrite"]
    print(f"{time.strftime('%H:%M:%S')} {name}: dlbook run 1.10.5 {shlex.join(args)} (log {log})", flush=True)
    with open(log, "w") as f:
        code = subprocess.call([sys.executable, "-m", "dlbook", "run", "1.10.5", *args], cwd=ROOT,
                               stdout=f, stderr=subprocess.STDOUT, env={**os.environ, **env})
    if code != 0:
        print(f"  {name} failed (exit {code}); see {log}", flush=True)
        return code
    meta = json.loads((out_dir / "run.json").read_text())
    record = {"row": name, "label": label, "base": "tuned", "order": list(ROWS).index(name), "seed": 0,
              "command": " ".join([*(f"{k}={v}" for k, v in env.items()),
                                   f"dlbook run 1.10.5 {shlex.join(options)} --data-dir ../shared/data"]),
              "onednn": env.get("TF_ENABLE_ONEDNN_OPTS", "1") == "1",
              "precision": meta["options"].get("precision", "float32"), "cpu": cpu(),
              "train_images": meta["options"].get("examples"), "history": meta["history"]}
    write_bytes(RESULTS / f"{name}.json", (json.dumps(record, indent=1) + "\n").encode())
    print(f"  {name}: final test accuracy {record['history']['test_acc'][-1]:.4f}", flush=True)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(ROWS), help="rows to run (default: all, in order)")
    parser.add_argument("--data-dir", default=str(SHARED_DATA))
    parser.add_argument("--runs", default=str(ROOT / "runs" / "time_to_accuracy"), help="where the runs go")
    parser.add_argument("--table", action="store_true", help="print the table of the recorded rows and stop")
    parser.add_argument("--readme", action="store_true", help="write the table into README.md and README.zh.md")
    args = parser.parse_args(argv)
    if not (args.table or args.readme):
        runs = Path(args.runs)
        runs.mkdir(parents=True, exist_ok=True)
        RESULTS.mkdir(parents=True, exist_ok=True)
        if any(run_row(name, args.data_dir, runs) for name in args.only or ROWS):
            return 1
    text = time_table(load_runs(RESULTS))
    print(text)
    for readme in (ROOT / "README.md", ROOT / "README.zh.md") if args.readme else ():
        write_bytes(readme, put_table(readme.read_text(encoding="utf-8"), text, *MARKS).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
