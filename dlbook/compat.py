"""TensorLayer 2.2.5 on TensorFlow 2.21 / Keras 3 / numpy 2 / h5py 3: the fixes, in one place.

Import TensorLayer through this module (``from dlbook.compat import tl``): the fixes below are
applied once, when this module is first imported, before anything uses TensorLayer. Each fix is
one function in :data:`FIXES`; each has an entry in ``docs/errata.md`` and a test in
``tests/test_compat.py`` that shows the bug with the fix switched off.

Fixes (name: what breaks without it):

- ``fix_rnn_forward``: every ``tl.layers.RNN`` / ``tl.models.Seq2seq`` forward fails, because TL
  calls ``cell.get_initial_state(inputs)`` and Keras 3 cells take ``get_initial_state(batch_size)``;
  TL's forward also ignored a given ``sequence_length`` and ran eagerly only. Now Seq2seq trains
  inside a ``tf.function`` too.
- ``fix_batchnorm_moving_stats``: ``BatchNorm*`` in training mode re-binds ``moving_mean``/``moving_var``
  to read-handles; the next training call inside a ``tf.function`` (e.g. after building a static
  model, which runs a training forward) fails with ``Can not convert a NoneType into a Tensor``.
- ``fix_hdf5_str_names``: ``load_weights('m.h5')`` fails with ``'str' object has no attribute
  'decode'`` (h5py 3 returns the stored names as str).
- ``fix_npz_ragged_save``: ``save_weights('m.npz')`` / ``tl.files.save_npz`` fail under numpy 2
  (ragged list) and leave a corrupt file.
- ``fix_seq2seq_top_n``: ``Seq2seq.inference(top_n=k)`` drew from logits / sum(logits) (fails on
  negative logits); it now draws from the softmax over the top k (:func:`sample_top_n`).
- ``fix_dropout_step_seed``: ``Dropout`` draws its masks from a stateful random op, whose stream
  a compiled train step cannot restart at step k of epoch e, so a run resumed inside an epoch drew
  other masks than an uninterrupted one. Inside :func:`dropout_seed` it now draws them from
  stateless ops keyed by the given seed (e.g. one per (seed, epoch, step)); outside, as TL does.
- ``fix_compute_dtype`` (mixed precision, not a bug): TL's layers have no compute-dtype policy (a
  bfloat16 input meets a float32 kernel and fails). Inside :func:`compute_dtype` the chapter's
  layers compute in the given dtype, their variables staying float32 (docs/design.md,
  "Mixed precision"); outside, as TL does.
- ``fix_fast_layer_introspection`` (speed, not a bug): TL reads the source of every stack frame
  (``inspect.stack()``) twice per layer built; it now walks the frames only, same checks, ~2x
  faster model construction.

To see a bug again, switch its fix off before the first import::

    DLBOOK_COMPAT_DISABLE=fix_rnn_forward python -c "from dlbook.compat import tl"
"""
import contextlib
import inspect
import os
import sys
import threading

import h5py
import numpy as np

import dlbook  # noqa: F401  (holds TensorFlow's start-up lines: dlbook.quiet)
import tensorlayer as tl  # noqa: E402
import tensorflow as tf  # noqa: E402

from dlbook.errors import UsageError  # noqa: E402
from dlbook.files.atomic import atomic_path  # noqa: E402
from dlbook.quiet import hold_tensorlayer_layer_logs  # noqa: E402

DISABLE_ENV = "DLBOOK_COMPAT_DISABLE"


def fix_rnn_forward():
    """Rewrite ``tl.layers.RNN.forward`` for Keras 3 cells, ``tf.function`` and ``sequence_length``.

    TL's forward asks for the zero state with ``cell.get_initial_state(inputs)`` (Keras 3:
    ``get_initial_state(batch_size)``), overwrites a given ``sequence_length`` with the count of
    non-zero input steps, and loops in Python over tensors (eager only). This one computes what TL
    computes (same cell calls; outputs and states taken at step ``length - 1``), in tensor ops.
    """
    original = tl.layers.RNN.forward

    def rnn_forward(self, inputs, sequence_length=None, initial_state=None, **kwargs):
        for attr in kwargs:  # TL: forward may update return_last_output etc.; unknown ones are ignored
            if attr in self.__dict__:
                setattr(self, attr, kwargs[attr])
        if _compute_dtype() is not None:  # mixed precision: the Keras cell computes in float32
            inputs = _cast(inputs, tf.float32)
            initial_state = tf.nest.map_structure(lambda s: _cast(s, tf.float32), initial_state)
        batch_size = inputs.shape[0] if inputs.shape[0] is not None else tf.shape(inputs)[0]
        if sequence_length is None:  # TL's rule: trailing all-zero input vectors are padding
            sequence_length = tl.layers.retrieve_seq_length_op3(inputs)
        elif not tf.is_tensor(sequence_length):
            _check_sequence_length(sequence_length, inputs.shape)
        last = tf.maximum(tf.cast(sequence_length, tf.int32) - 1, 0)  # errata: tl-rnn-sequence-length
        states = initial_state if initial_state is not None else \
            self.cell.get_initial_state(batch_size=batch_size)  # errata: tl-rnn-initial-state
        states = states if isinstance(states, list) else [states]
        self.cell.reset_dropout_mask()
        self.cell.reset_recurrent_dropout_mask()
        outputs, stored_states = [], []
        for step in range(inputs.shape[1]):
            output, states = self.cell.call(inputs[:, step, :], states, training=self.is_train)
            outputs.append(output)
            stored_states.append(states)
        outputs = tf.stack(outputs, axis=1)  # [batch, steps, units]
        if self.return_last_output:
            outputs = tf.gather(outputs, last, axis=1, batch_dims=1)
        elif self.return_seq_2d:
            outputs = tf.reshape(outputs, [-1, self.cell.units])
        if not self.return_last_state:
            return outputs
        return outputs, [tf.gather(tf.stack(s, axis=1), last, axis=1, batch_dims=1) for s in zip(*stored_states)]

    rnn_forward.__wrapped__ = original  # TL's original, for the tests
    tl.layers.RNN.forward = rnn_forward


def _check_sequence_length(lengths, inputs_shape):
    """TL's checks of a list / array ``sequence_length`` (a wrong index would gather zeros on a GPU),
    with TL's exception types: TypeError for what is not a list of integers, ValueError for values."""
    if not isinstance(lengths, (list, np.ndarray)):
        raise TypeError(f"sequence_length should be either None or a list of integers, got {type(lengths).__name__}")
    lengths = np.asarray(lengths)
    if lengths.size and not np.issubdtype(lengths.dtype, np.integer):
        raise TypeError(f"sequence_length should be a list of integers, got {lengths.tolist()}")
    batch_size, total_steps = inputs_shape[0], inputs_shape[1]
    if lengths.ndim != 1 or (batch_size is not None and len(lengths) != batch_size):
        raise ValueError(f"sequence_length should hold {batch_size} lengths (one per sequence), got {lengths.tolist()}")
    if not np.issubdtype(lengths.dtype, np.integer) or lengths.min() < 0 or lengths.max() > total_steps:
        raise ValueError(f"sequence_length should be integers from 0 to {total_steps} (the steps), got {lengths.tolist()}")


def fix_batchnorm_moving_stats():
    """Update ``BatchNorm``'s moving mean/variance in place instead of re-binding the attributes.

    TL writes ``self.moving_mean = assign_moving_average(...)``, which replaces the variable by a
    read-handle; the next call inside a tf.function reads that handle and fails. Same formula:
    moving = decay * moving + (1 - decay) * batch_stat.
    """
    batch_normalization = tl.layers.normalization.batch_normalization

    def batchnorm_forward(self, inputs):
        low = _compute_dtype()  # mixed precision: statistics and normalisation in float32 (as Keras)
        inputs = inputs if low is None else tf.cast(inputs, tf.float32)
        self._check_input_shape(inputs)
        self.channel_axis = len(inputs.shape) - 1 if self.data_format == 'channels_last' else 1
        if self.axes is None:
            self.axes = [i for i in range(len(inputs.shape)) if i != self.channel_axis]
        if self.is_train:
            mean, var = tf.nn.moments(inputs, self.axes, keepdims=False)
            # errata: tl-batchnorm-graph
            self.moving_mean.assign(self.decay * self.moving_mean + (1.0 - self.decay) * mean)
            self.moving_var.assign(self.decay * self.moving_var + (1.0 - self.decay) * var)
        else:
            mean, var = self.moving_mean, self.moving_var
        outputs = batch_normalization(inputs, mean, var, self.beta, self.gamma, self.epsilon, self.data_format)
        outputs = outputs if low is None else tf.cast(outputs, low)
        return self.act(outputs) if self.act else outputs

    tl.layers.BatchNorm.forward = batchnorm_forward


def h5_names(attrs, key):
    """A list of names from an HDF5 attribute: h5py 3 gives str where h5py 2 gave bytes."""
    return [name.decode("utf8") if isinstance(name, bytes) else str(name) for name in attrs[key]]


def fix_hdf5_str_names():
    """Load TL's ``.h5`` weights under h5py 3, which returns the stored layer/weight names as str.

    TL's three HDF5 loaders call ``name.decode('utf8')`` on them; these replacements read str or
    bytes and otherwise keep TL's rules (in order, or by layer name with ``skip``).
    """
    utils = tl.files.utils

    def load_group(group, layers, in_order, skip=False):  # errata: tl-h5-str-names
        names = h5_names(group.attrs, "layer_names")
        by_name = {layer.name: layer for layer in layers}
        if not in_order and not skip and set(names) - set(by_name):
            missing = sorted(set(names) - set(by_name))
            raise RuntimeError(f"Layer(s) {missing} not found in network; pass skip=True to skip them.")
        pairs = zip(names, layers) if in_order else ((n, by_name[n]) for n in names if n in by_name)
        for name, layer in pairs:
            nested = nested_layers(layer)
            if nested is not None:
                load_group(group[name], nested, in_order, skip)
                continue
            for index, weight_name in enumerate(h5_names(group[name].attrs, "weight_names")):
                value = np.asarray(group[name][weight_name])
                if isinstance(layer, tl.layers.BatchNorm) and value.ndim > 1:
                    value = value.squeeze()  # TL's own compatibility rule for old BatchNorm files
                utils.assign_tf_variable(layer.all_weights[index], value)

    def load_hdf5_to_weights(filepath, network, skip=False):
        """Load weights by layer name from a TL ``.h5`` file (``skip``: ignore unknown layers)."""
        with h5py.File(filepath, "r") as f:
            load_group(f, network.all_layers, in_order=False, skip=skip)

    utils._load_weights_from_hdf5_group_in_order = lambda f, layers: load_group(f, layers, True)
    utils._load_weights_from_hdf5_group = lambda f, layers, skip=False: load_group(f, layers, False, skip)
    utils.load_hdf5_to_weights = tl.files.load_hdf5_to_weights = load_hdf5_to_weights


def nested_layers(layer):
    """The layers inside a Model / ModelLayer / LayerList, or None for a plain layer."""
    if isinstance(layer, tl.models.Model):
        return layer.all_layers
    if isinstance(layer, tl.layers.ModelLayer):
        return layer.model.all_layers
    if isinstance(layer, tl.layers.LayerList):
        return layer.layers
    return None


def fix_npz_ragged_save():
    """Save ``.npz`` weights as an explicit object array: numpy 2 refuses ``np.array(ragged_list)``.

    TL's ``save_npz`` passes the list of weight arrays of different shapes to ``np.savez``, which
    raises after opening the file and leaves a corrupt one. The file layout is unchanged (key
    ``params``, an object array), so ``tl.files.load_npz``/``load_and_assign_npz`` read it. The write
    is atomic: a failure leaves any previous file intact.
    """
    utils = tl.files.utils

    def save_npz(save_list=None, name="model.npz"):
        """Save the weights in ``save_list`` in order into ``name`` (``.npz`` is appended if missing)."""
        arrays = utils.tf_variables_to_numpy(save_list or [])
        params = np.empty(len(arrays), dtype=object)  # errata: tl-npz-ragged
        for index, array in enumerate(arrays):
            params[index] = array
        target = name if str(name).endswith(".npz") else f"{name}.npz"
        with atomic_path(target) as tmp, open(tmp, "wb") as f:
            np.savez(f, params=params)

    utils.save_npz = tl.files.save_npz = save_npz


def sample_top_n(logits, top_n, rng=np.random):
    """Draw an index from softmax(``logits``) restricted to the ``top_n`` largest logits.

    ``rng``: anything with numpy's ``choice`` (default: NumPy's global generator, as TL used).
    """
    logits = np.asarray(logits, dtype=np.float64)
    top = np.argpartition(logits, -top_n)[-top_n:]
    probs = np.exp(logits[top] - logits[top].max())
    return int(rng.choice(top, p=probs / probs.sum()))


def fix_seq2seq_top_n():
    """``Seq2seq.inference(top_n=k)``: sample from the softmax over the top k logits.

    TL used p = logits / sum(logits) over raw logits: negative logits raise ``probabilities are not
    non-negative`` and all-negative ones invert the ranking. Otherwise this is TL's inference: the
    first word is the argmax, each later one is drawn (or the argmax when ``top_n`` is None).
    """

    def inference(self, encoding, seq_length, start_token, top_n):
        feed_output = self.embedding_layer(encoding[0])
        state = [None] * self.n_layer
        for i in range(self.n_layer):
            feed_output, state[i] = self.enc_layers[i](feed_output, return_state=True)
        feed_output = [[start_token]] * int(tf.shape(encoding[0])[0])
        outputs = []
        for step in range(seq_length):
            feed_output = self.embedding_layer(feed_output)
            for i in range(self.n_layer):
                feed_output, state[i] = self.dec_layers[i](feed_output, initial_state=state[i], return_state=True)
            logits = self.reshape_layer_individual_sequence(self.dense_layer(self.reshape_layer(feed_output)))
            if top_n is None or step == 0:
                feed_output = tf.argmax(logits, -1)
            else:  # errata: tl-seq2seq-top-n
                drawn = [[sample_top_n(row, top_n)] for row in logits[:, 0].numpy()]
                feed_output = tf.constant(drawn, dtype=tf.int64)
            outputs.append(feed_output)
        return tf.concat(outputs, 1), state

    inference.__wrapped__ = tl.models.Seq2seq.inference  # TL's original, for the tests
    tl.models.Seq2seq.inference = inference


_dropout_seeds = threading.local()  # .stack: [[seed tensor, Dropout layers seeded so far], ...]


@contextlib.contextmanager
def dropout_seed(seed):
    """Key every ``tl.layers.Dropout`` mask drawn inside the block by ``seed``.

    ``seed``: a shape-[2] integer tensor (e.g. ``stateless_fold_in([seed, epoch], step)``, as
    ``dlbook.train.fit`` passes to its compiled step), or None for TensorLayer's own stateful
    draws. The k-th Dropout called in the block (training mode) draws its mask with
    ``tf.nn.experimental.stateless_dropout`` from ``stateless_fold_in(seed, k)``: the same seed
    gives the same masks, in any process, whatever ran before. Use it where the model is called,
    inside the ``tf.function`` being traced, so the seed is an argument of the compiled step.
    """
    if seed is None:
        yield
        return
    stack = _dropout_seeds.__dict__.setdefault("stack", [])
    stack.append([seed, 0])
    try:
        yield
    finally:
        stack.pop()


def fix_dropout_step_seed():
    """``Dropout`` in training mode draws stateless masks inside :func:`dropout_seed` (else as TL)."""
    original = tl.layers.Dropout.forward

    def dropout_forward(self, inputs):
        stack = getattr(_dropout_seeds, "stack", None)
        if not self.is_train or not stack:
            return original(self, inputs)
        entry = stack[-1]
        seed = tf.random.experimental.stateless_fold_in(entry[0], entry[1])  # errata: tl-dropout-stateful
        entry[1] += 1
        return tf.nn.experimental.stateless_dropout(inputs, rate=1 - self.keep, seed=seed, name=self.name)

    dropout_forward.__wrapped__ = original  # TL's original, for the tests
    tl.layers.Dropout.forward = dropout_forward


_compute = threading.local()  # .dtype: the compute dtype inside compute_dtype(), else None


@contextlib.contextmanager
def compute_dtype(dtype):
    """Inside the block, the chapter's TL layers compute in ``dtype`` (e.g. ``tf.bfloat16``).

    Dense and Conv2d cast their input and their float32 weights to ``dtype`` (the gradient of the
    cast arrives float32 at the variable, as with Keras' autocast variables); Embedding casts what
    it looks up; BatchNorm normalises and updates its moving statistics in float32 and returns
    ``dtype``; Dropout draws the float32 masks; the RNN's Keras cells compute in float32. ``None``
    or float32: TensorLayer's own computation. Enter it where the model is called, inside the
    ``tf.function`` being traced (and inside each replica's function under tf.distribute).
    """
    dtype = None if dtype is None or tf.as_dtype(dtype) == tf.float32 else tf.as_dtype(dtype)
    previous = getattr(_compute, "dtype", None)
    _compute.dtype = dtype
    try:
        yield
    finally:
        _compute.dtype = previous


def _compute_dtype():
    return getattr(_compute, "dtype", None)


def _cast(value, dtype):
    """``value`` cast to ``dtype`` when it is a float tensor of another dtype, else ``value``."""
    if value is None or not value.dtype.is_floating or value.dtype == dtype:
        return value
    return tf.cast(value, dtype)


def fix_compute_dtype():
    """Dense, Conv2d, Embedding, Dropout compute in the dtype of :func:`compute_dtype` (else as TL)."""
    dense, conv2d = tl.layers.Dense.forward, tl.layers.Conv2d.forward
    embedding, dropout = tl.layers.Embedding.forward, tl.layers.Dropout.forward

    def dense_forward(self, inputs):  # TL's Dense.forward, the operands cast
        low = _compute_dtype()
        if low is None:
            return dense(self, inputs)
        z = tf.matmul(_cast(inputs, low), _cast(self.W, low))
        z = tf.add(z, _cast(self.b, low)) if self.b_init else z
        return self.act(z) if self.act else z

    def conv2d_forward(self, inputs):  # TL's Conv2d.forward, the operands cast
        low = _compute_dtype()
        if low is None:
            return conv2d(self, inputs)
        outputs = tf.nn.conv2d(_cast(inputs, low), _cast(self.W, low), strides=self._strides, padding=self.padding,
                               data_format=self.data_format, dilations=self._dilation_rate, name=self.name)
        if self.b_init:
            outputs = tf.nn.bias_add(outputs, _cast(self.b, low), data_format=self.data_format, name='bias_add')
        return self.act(outputs) if self.act else outputs

    def embedding_forward(self, inputs):  # the float32 rows looked up, then cast (as Keras)
        low = _compute_dtype()
        return embedding(self, inputs) if low is None else _cast(embedding(self, inputs), low)

    def dropout_forward(self, inputs):  # the float32 run's masks and scale, then cast
        low = _compute_dtype()
        return dropout(self, inputs) if low is None else _cast(dropout(self, _cast(inputs, tf.float32)), low)

    for cls, forward, original in ((tl.layers.Dense, dense_forward, dense), (tl.layers.Conv2d, conv2d_forward, conv2d),
                                   (tl.layers.Embedding, embedding_forward, embedding),
                                   (tl.layers.Dropout, dropout_forward, dropout)):
        forward.__wrapped__ = original  # TL's forward (Dropout: fix_dropout_step_seed's), for the tests
        cls.forward = forward


class _ShallowInspect:
    """``inspect`` for TL's layer bookkeeping, with a ``stack()`` that only lists frames.

    TL calls ``inspect.stack()`` (which reads source lines of every frame on the stack) twice per
    layer it builds; under pytest's deep stacks that dominated model construction.
    """

    def __getattr__(self, name):
        return getattr(inspect, name)

    @staticmethod
    def stack(context=1):
        frame, frames = sys._getframe(1), []  # start at the caller, as inspect.stack() does
        while frame is not None:
            frames.append((frame,))  # TL only reads element [0], the frame
            frame = frame.f_back
        return frames


def fix_fast_layer_introspection():
    """Layer construction: frames without source lines for TL's protected-method and args checks."""
    import tensorlayer.decorators.method_decorator as method_decorator
    import tensorlayer.layers.core as layers_core

    method_decorator.inspect = layers_core.inspect = _ShallowInspect()


FIXES = (
    fix_rnn_forward,
    fix_batchnorm_moving_stats,
    fix_hdf5_str_names,
    fix_npz_ragged_save,
    fix_seq2seq_top_n,
    fix_dropout_step_seed,
    fix_compute_dtype,
    fix_fast_layer_introspection,
)
FIX_NAMES = tuple(fix.__name__ for fix in FIXES)
_applied = set()


def apply(skip=()):
    """Apply every fix in :data:`FIXES` not named in ``skip``; each fix is applied at most once."""
    unknown = sorted(set(skip) - set(FIX_NAMES))
    if unknown:
        raise UsageError(f"unknown TensorLayer fix(es) {', '.join(unknown)}; known: {', '.join(FIX_NAMES)}")
    for fix in FIXES:
        if fix.__name__ not in skip and fix.__name__ not in _applied:
            fix()
            _applied.add(fix.__name__)


def _disabled_from_env():
    return tuple(name.strip() for name in os.environ.get(DISABLE_ENV, "").split(",") if name.strip())


apply(skip=_disabled_from_env())
hold_tensorlayer_layer_logs(tl)
