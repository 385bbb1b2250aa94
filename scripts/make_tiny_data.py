"""Generate the tiny synthetic datasets shipped in ``data/tiny`` (deterministic, byte for byte).

    python scripts/make_tiny_data.py [--out data/tiny]

writes, in the exact official formats, so the real loaders read them unchanged:

* ``mnist/``: 3,000 training + 600 test 28x28 digit glyphs (gzipped IDX, gzip mtime 0): each
  digit is drawn from a few strokes, with random stroke wobble, rotation, scale, shear, shift,
  thickness, brightness and sparse noise. Balanced classes. An MLP learns them well (~95%).
* ``cifar10/cifar-10-batches-py/``: 5 training batches of 100 + a test batch of 200 32x32 RGB
  images (Python 2 protocol-2 pickles, as the official batches) and ``batches.meta``. Each class is
  a pattern (disk, square, triangle, ring, horizontal / vertical / diagonal stripes, cross,
  checkerboard, two dots) in random colours, size and place, with pixel noise and, sometimes, a
  distractor rectangle: a small CNN gets well above chance (10%) but not 100%.

Only basic float arithmetic, sqrt and the PCG64 integer stream are used, so the bytes do not
depend on the platform's maths library.
"""
import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone without installing

from dlbook.data.cifar10 import write_cifar10_pickle  # noqa: E402
from dlbook.data.mnist import write_idx_gz  # noqa: E402

MNIST_SIZES = {"train": 3000, "t10k": 600}
CIFAR_TRAIN_BATCHES, CIFAR_BATCH_SIZE, CIFAR_TEST_SIZE = 5, 100, 200
CIFAR_LABEL_NAMES = ["airplane", "automobile", "bird", "cat", "deer",
                     "dog", "frog", "horse", "ship", "truck"]
MNIST_SEED, CIFAR_SEED = 1, 2


# ---------------------------------------------------------------- MNIST-like digits
def _arc(cx, cy, rx, ry, start, stop, n=12):
    """Points on an ellipse arc, angles in degrees (counter-clockwise, y pointing down);
    rounded to 4 decimals so libm differences cannot reach the pixels."""
    angles = [math.radians(start + (stop - start) * i / n) for i in range(n + 1)]
    return [(round(cx + rx * math.cos(a), 4), round(cy - ry * math.sin(a), 4)) for a in angles]


# Each digit: polylines in a unit box (x right, y down).
GLYPHS = {
    0: [_arc(0.5, 0.5, 0.42, 0.48, 0, 360, 20)],
    1: [[(0.3, 0.2), (0.58, 0.02), (0.58, 0.98)]],
    2: [_arc(0.5, 0.3, 0.4, 0.28, 160, -30, 8) + [(0.08, 0.98), (0.95, 0.98)]],
    3: [_arc(0.5, 0.27, 0.38, 0.25, 150, -90, 10), _arc(0.5, 0.73, 0.42, 0.25, 90, -150, 10)],
    4: [[(0.72, 0.98), (0.72, 0.02), (0.05, 0.7), (0.95, 0.7)]],
    5: [[(0.88, 0.02), (0.2, 0.02), (0.14, 0.45)] + _arc(0.48, 0.67, 0.42, 0.31, 140, -150, 10)],
    6: [[(0.78, 0.02), (0.32, 0.35)] + _arc(0.5, 0.7, 0.38, 0.28, 165, -195, 16)],
    7: [[(0.05, 0.02), (0.95, 0.02), (0.38, 0.98)]],
    8: [_arc(0.5, 0.26, 0.33, 0.24, 0, 360, 16), _arc(0.5, 0.73, 0.4, 0.26, 0, 360, 16)],
    9: [_arc(0.5, 0.3, 0.38, 0.28, 0, 360, 16), [(0.88, 0.3), (0.75, 0.98)]],
}


def _uniform(rng, low, high, size=None):
    """Uniform on a 1/1000 grid from the integer stream (exact, platform-independent)."""
    return rng.integers(round(low * 1000), round(high * 1000) + 1, size=size) / 1000.0


def draw_digit(digit, rng):
    """One 28x28 uint8 glyph of ``digit``."""
    t = _uniform(rng, -0.12, 0.12)  # rotation by ~2t radians, from the rational parametrisation
    cos, sin = (1 - t * t) / (1 + t * t), 2 * t / (1 + t * t)
    sx, sy, shear = _uniform(rng, 0.8, 1.1), _uniform(rng, 0.8, 1.1), _uniform(rng, -0.25, 0.25)
    dx, dy = _uniform(rng, -2.5, 2.5), _uniform(rng, -2.5, 2.5)
    half_width, peak = _uniform(rng, 0.9, 1.8), rng.integers(190, 256)
    segments = []
    for line in GLYPHS[digit]:
        points = np.array(line) + _uniform(rng, -0.04, 0.04, size=(len(line), 2))
        u, v = (points[:, 0] - 0.5) * 14.0, (points[:, 1] - 0.5) * 20.0
        u = u + shear * v
        x = sx * (cos * u - sin * v) + 13.5 + dx
        y = sy * (sin * u + cos * v) + 13.5 + dy
        xy = np.stack([x, y], axis=1)
        segments.append(np.stack([xy[:-1], xy[1:]], axis=1))
    seg = np.concatenate(segments)  # [s, 2 ends, 2 coords]
    py, px = np.mgrid[0:28, 0:28].astype(np.float64)
    px, py = px.reshape(-1, 1), py.reshape(-1, 1)
    ax, ay = seg[:, 0, 0], seg[:, 0, 1]
    ex, ey = seg[:, 1, 0] - ax, seg[:, 1, 1] - ay
    length2 = np.maximum(ex * ex + ey * ey, 1e-9)
    along = np.clip(((px - ax) * ex + (py - ay) * ey) / length2, 0.0, 1.0)
    ddx, ddy = px - (ax + along * ex), py - (ay + along * ey)
    distance = np.sqrt(ddx * ddx + ddy * ddy).min(axis=1)
    ink = np.clip(half_width + 0.5 - distance, 0.0, 1.0)
    image = np.rint(ink * peak).reshape(28, 28)
    speckle = rng.integers(0, 100, size=(28, 28)) < 1  # ~1% of pixels get noise
    image = np.where(speckle, np.maximum(image, rng.integers(30, 160, size=(28, 28))), image)
    return image.astype(np.uint8)


def make_mnist(n, rng):
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    images = np.stack([draw_digit(int(d), rng) for d in labels])
    return images, labels


# ---------------------------------------------------------------- CIFAR-like patterns
def _colours(rng):
    """Background and foreground RGB colours that differ clearly in brightness."""
    while True:
        bg, fg = rng.integers(0, 256, size=3), rng.integers(0, 256, size=3)
        if abs(int(bg.sum()) - int(fg.sum())) >= 180:
            return bg, fg


def pattern_mask(label, rng):
    """The 32x32 boolean foreground of class ``label``'s pattern."""
    yy, xx = np.mgrid[0:32, 0:32]
    cx, cy, r = rng.integers(10, 22), rng.integers(10, 22), rng.integers(6, 10)
    period, phase = rng.integers(4, 9), rng.integers(0, 8)
    d2 = (xx - cx) ** 2 + (yy - cy) ** 2
    if label == 0:  # disk
        return d2 <= r * r
    if label == 1:  # square
        return (abs(xx - cx) <= r) & (abs(yy - cy) <= r)
    if label == 2:  # triangle, apex up
        return (yy >= cy - r) & (yy <= cy + r) & (2 * abs(xx - cx) <= yy - (cy - r))
    if label == 3:  # ring
        return (d2 <= r * r) & (d2 >= (r - 3) ** 2)
    if label == 4:  # horizontal stripes
        return ((yy + phase) // (period // 2)) % 2 == 0
    if label == 5:  # vertical stripes
        return ((xx + phase) // (period // 2)) % 2 == 0
    if label == 6:  # cross
        w = rng.integers(1, 3)
        return ((abs(xx - cx) <= w) & (abs(yy - cy) <= r)) | ((abs(yy - cy) <= w) & (abs(xx - cx) <= r))
    if label == 7:  # checkerboard
        return (((xx + phase) // (period // 2)) + ((yy + phase) // (period // 2))) % 2 == 0
    if label == 8:  # diagonal stripes
        return ((xx + yy + phase) // (period // 2)) % 2 == 0
    # label 9: two dots
    qx, qy = rng.integers(5, 27), rng.integers(5, 27)
    return (d2 <= 9) | ((xx - qx) ** 2 + (yy - qy) ** 2 <= 9)


def draw_pattern(label, rng):
    """One 32x32x3 uint8 image of class ``label``."""
    bg, fg = _colours(rng)
    image = np.where(pattern_mask(label, rng)[..., None], fg, bg)
    if rng.integers(0, 10) < 3:  # a distractor rectangle in a third colour
        x0, y0, w, h = rng.integers(0, 28), rng.integers(0, 28), rng.integers(3, 8), rng.integers(3, 8)
        image[y0:y0 + h, x0:x0 + w] = rng.integers(0, 256, size=3)
    image = image + rng.integers(-24, 25, size=image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def make_cifar(n, rng, first_index):
    labels = rng.permutation(np.arange(n) % 10)
    images = np.stack([draw_pattern(int(c), rng) for c in labels])
    data = images.transpose(0, 3, 1, 2).reshape(n, 3072)  # R, G, B planes, as in CIFAR-10
    filenames = [f"{CIFAR_LABEL_NAMES[c]}_s_{first_index + i:06d}.png" for i, c in enumerate(labels)]
    return data, [int(c) for c in labels], filenames


# ---------------------------------------------------------------- writing
def write_tiny_data(out):
    """Write both tiny datasets under ``out``; return the list of files written."""
    out = Path(out)
    written = []
    for split, n in MNIST_SIZES.items():
        images, labels = make_mnist(n, np.random.default_rng([MNIST_SEED, n]))
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            path = out / "mnist" / f"{split}-{kind}-ubyte.gz"
            write_idx_gz(path, array)
            written.append(path)

    directory = out / "cifar10" / "cifar-10-batches-py"
    batches = [(f"data_batch_{i}", f"training batch {i} of {CIFAR_TRAIN_BATCHES}", CIFAR_BATCH_SIZE)
               for i in range(1, CIFAR_TRAIN_BATCHES + 1)]
    batches.append(("test_batch", "testing batch 1 of 1", CIFAR_TEST_SIZE))
    first_index = 0
    for number, (name, batch_label, n) in enumerate(batches):
        data, labels, filenames = make_cifar(n, np.random.default_rng([CIFAR_SEED, number]), first_index)
        first_index += n
        write_cifar10_pickle(directory / name, {"batch_label": batch_label, "labels": labels,
                                                "data": data, "filenames": filenames})
        written.append(directory / name)
    write_cifar10_pickle(directory / "batches.meta", {"num_cases_per_batch": CIFAR_BATCH_SIZE,
                                                      "label_names": CIFAR_LABEL_NAMES, "num_vis": 3072})
    written.append(directory / "batches.meta")
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description="Generate the tiny synthetic MNIST / CIFAR-10 subsets.")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "data" / "tiny"),
                        help="output directory (default: data/tiny in the repository)")
    args = parser.parse_args(argv)
    written = write_tiny_data(args.out)
    total = sum(p.stat().st_size for p in written)
    for path in written:
        print(f"{path.stat().st_size:>9,}  {path}")
    print(f"{total:>9,}  bytes in {len(written)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
