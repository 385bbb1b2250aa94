"""1.8 Convolutional networks: output size (1.24), convolution and pooling by hand, parameter counts."""
import numpy as np

from dlbook.errors import ShapeError, UsageError

#: A 4 x 4 single-channel example for 2 x 2 pooling with stride 2 (Fig 1.19).
POOLING_EXAMPLE = np.array([[1, 1, 2, 4],
                            [5, 6, 7, 8],
                            [3, 2, 1, 0],
                            [1, 2, 3, 4]], dtype=float)


def conv_output_size(W, F, P=0, S=1):
    """(1.24) (W - F + 2P) // S + 1; raises ShapeError when the filter does not fit at all."""
    if F > W + 2 * P:
        raise ShapeError(f"a filter of size {F} does not fit an input of size {W} with "
                         f"padding {P}; use a smaller filter or more padding")
    return (W - F + 2 * P) // S + 1


def fig_1_18_example(seed=0):
    """The setting of Fig 1.18: a 4x4x3 input and one 3x3x3 kernel of small integers.
    Returns (image (4, 4, 3), kernel (3, 3, 3, 1))."""
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 3, size=(4, 4, 3)).astype(float),
            rng.integers(-1, 2, size=(3, 3, 3, 1)).astype(float))


def conv2d(image, kernel, stride=1, padding=0, bias=None):
    """Slide the kernel over the zero-padded image; each output is the sum of the elementwise
    product of the kernel and the window under it (over all input channels), plus the bias."""
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    if image.ndim != 3 or kernel.ndim != 4 or image.shape[2] != kernel.shape[2]:
        raise ShapeError(f"conv2d needs an (H, W, C) image and an (F, F, C, K) kernel with the "
                         f"same C; got {image.shape} and {kernel.shape}")
    F = kernel.shape[0]
    padded = np.pad(image, ((padding, padding), (padding, padding), (0, 0)))
    h_out = conv_output_size(image.shape[0], F, padding, stride)
    w_out = conv_output_size(image.shape[1], kernel.shape[1], padding, stride)
    out = np.zeros((h_out, w_out, kernel.shape[3]))
    for i in range(h_out):
        for j in range(w_out):
            window = padded[i * stride:i * stride + F, j * stride:j * stride + kernel.shape[1]]
            out[i, j] = np.tensordot(window, kernel, axes=([0, 1, 2], [0, 1, 2]))
    return out if bias is None else out + bias


def pool2d(image, size=2, stride=2, mode="max"):
    """Max or average pooling of an (H, W) or (H, W, C) array, per channel, no padding."""
    image = np.asarray(image, dtype=float)
    reduce = {"max": np.max, "avg": np.mean}.get(mode)
    if reduce is None:
        raise UsageError(f"pooling mode must be 'max' or 'avg', got {mode!r}")
    h_out = conv_output_size(image.shape[0], size, 0, stride)
    w_out = conv_output_size(image.shape[1], size, 0, stride)
    out = np.zeros((h_out, w_out) + image.shape[2:])
    for i in range(h_out):
        for j in range(w_out):
            window = image[i * stride:i * stride + size, j * stride:j * stride + size]
            out[i, j] = reduce(window, axis=(0, 1))
    return out


def conv_param_count(F, C_in, C_out, bias=True):
    """Weights of a conv layer: F * F * C_in per filter, C_out filters, one bias each."""
    return F * F * C_in * C_out + (C_out if bias else 0)


def dense_param_count(n_in, n_out, bias=True):
    """Weights of a dense layer: one per input-output pair, one bias per output."""
    return n_in * n_out + (n_out if bias else 0)
