"""Mixed precision: the ``--precision`` choices, what ``auto`` picks on this machine and why
(docs/design.md, "Mixed precision"). No TensorFlow import here but for the GPU query."""
import os
import platform
import sys

from dlbook.errors import UsageError

CHOICES = ("float32", "mixed_bfloat16", "auto")
COMPUTE_DTYPES = {"float32": None, "mixed_bfloat16": "bfloat16"}  # None: TensorLayer's float32
BF16_CPU_FLAGS = {"avx512_bf16": "AVX512_BF16", "amx_bf16": "AMX"}  # Linux /proc/cpuinfo flag: its name
ALL_FLOAT32 = "all float32; --precision auto picks bfloat16 where this machine runs it fast"
NO_BF16 = "this CPU has neither AVX512_BF16 nor AMX: bfloat16 runs slower than float32 on it"


def cpu_bf16(cpuinfo):
    """The bfloat16 instructions named in the flags of ``cpuinfo`` (/proc/cpuinfo's text), e.g.
    "AVX512_BF16", or None."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            flags = set(value.split())
            return next((name for flag, name in BF16_CPU_FLAGS.items() if flag in flags), None)
    return None


def read_cpuinfo(path="/proc/cpuinfo"):
    """The text of ``path`` ("" where there is none: not Linux)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def gpu_capabilities():
    """The compute capability of each visible GPU, e.g. [(8, 0)] ((0, 0) where not reported)."""
    import tensorflow as tf
    return [tuple(tf.config.experimental.get_device_details(gpu).get("compute_capability") or (0, 0))
            for gpu in tf.config.list_physical_devices("GPU")]


def resolve(name, cpuinfo=None, gpus=None):
    """(precision, reason) for ``--precision name``: ``auto`` is mixed_bfloat16 where bfloat16 is
    fast (GPUs of compute capability 8.0 or more; CPUs with AVX512_BF16 or AMX), else float32.

    ``cpuinfo`` (default: /proc/cpuinfo's text) and ``gpus`` (default: :func:`gpu_capabilities`)
    are what the machine is judged by; ``None`` is float32 (the default). float16 with loss scaling
    is not offered.
    """
    name = name or "float32"
    if name not in CHOICES:
        raise UsageError(f"precision must be one of {', '.join(CHOICES)}, got {name!r}")
    if name == "float32":
        return name, ALL_FLOAT32
    gpus = gpu_capabilities() if gpus is None else gpus
    if gpus:
        fast = min(gpus) >= (8, 0)
        why = f"the GPU has compute capability {'.'.join(map(str, min(gpus)))}"
        if name == "mixed_bfloat16":
            return name, "as asked" + ("" if fast else f"; {why}, bfloat16 is not faster there")
        return ("mixed_bfloat16", f"auto: {why}") if fast else ("float32", f"auto: {why} (below 8.0)")
    flag = cpu_bf16(read_cpuinfo() if cpuinfo is None else cpuinfo)
    if name == "mixed_bfloat16":
        return name, "as asked" + ("" if flag else f"; {NO_BF16}")
    return ("mixed_bfloat16", f"auto: this CPU has {flag}") if flag else ("float32", f"auto: {NO_BF16}")


def line(precision, reason):
    """What a run prints before it trains, e.g. "precision: mixed_bfloat16 (auto: this CPU has AVX512_BF16)"."""
    return f"precision: {precision} ({reason})"


ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"


def prefer_onednn(environ=os.environ, machine=None):
    """Before TensorFlow loads, on x86-64, turn on its oneDNN kernels unless the user set
    TF_ENABLE_ONEDNN_OPTS (TensorFlow does it itself only on CPUs with AVX512_VNNI, AVX512_BF16
    or AMX; on an AVX2 CPU they train the 1.10.5 CNN ~1.8x faster: scripts/bench_onednn.py)."""
    if "tensorflow" not in sys.modules and (machine or platform.machine()).lower() in ("x86_64", "amd64"):
        if not environ.get(ONEDNN_ENV):  # unset or empty: TensorFlow's own choice, made here
            environ[ONEDNN_ENV] = "1"
