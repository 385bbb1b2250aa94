"""The train step, the shape of Listing 1.2: forward and loss under ``tf.GradientTape``, then the
gradients and ``apply_gradients``; built once for every trainer (fit, 1.10.5, 1.10.6)."""
import numpy as np
import tensorflow as tf

from dlbook.compat import compute_dtype as computing_in, dropout_seed
from dlbook.distribute import check_built_in_scope

POSITION = tf.TensorSpec([3], tf.int64)  # (seed, epoch, step): what a step's randomness is keyed by


def position(seed, epoch, step):
    """The step's key: a resumed run passes the (seed, epoch, step) an uninterrupted one passes."""
    return tf.constant([seed % 2**63, epoch, step], tf.int64)


def dropout_key(position):
    """The step's dropout seed: (seed, epoch) with the step folded in (:func:`compat.dropout_seed`)."""
    return tf.random.experimental.stateless_fold_in(position[:2], position[2])


def metric_value(metric, logits, labels):
    """``metric(logits, labels)`` as a float32 scalar in a graph (a NumPy-only one through
    ``tf.numpy_function``, e.g. TensorLayer's docstring ``acc``)."""
    try:
        return tf.cast(metric(logits, labels), tf.float32)
    except (NotImplementedError, TypeError):
        return tf.numpy_function(lambda out, y: np.float32(metric(out, y)), [logits, labels], tf.float32)


def forward(model, inputs, compute_dtype=None):
    """``model(inputs)`` computed in ``compute_dtype`` (None: float32; mixed precision:
    :func:`dlbook.compat.compute_dtype`), the logits returned float32 for the loss and the metric."""
    if compute_dtype is None:
        return model(inputs)
    with computing_in(compute_dtype):
        return tf.cast(model(inputs), tf.float32)


class Step:
    """A step compiled once: ``step(*args)`` puts the model in its mode (TL traces it in the mode
    it is in) and calls the ``tf.function`` (``.function``); with an input signature, its one
    concrete function, which skips the per-call dispatch (~10% of a 1.10.4 step: bench_fit.py).
    ``per_call`` steps run in one call (inputs and labels then [steps, batch, ...])."""

    def __init__(self, model, function, training, per_call=1):
        self.model, self.function, self.training, self.per_call = model, function, training, per_call
        self._concrete = None

    def examples(self, labels):
        """The examples of each step in a call of ``labels`` (a tensor or a tuple of them)."""
        return int(tf.nest.flatten(labels)[0].shape[1 if self.per_call > 1 else 0])

    def __call__(self, *args):
        self.model.train() if self.training else self.model.eval()
        if self.function.input_signature is None:
            return self.function(*args)
        if self._concrete is None:
            self._concrete = self.function.get_concrete_function()
        return self._concrete(*args)


def _outputs(loss, logits, labels, metric, share=1.0):
    """The step's report, {"loss": ..., "acc": ...}: this replica's share of the batch means."""
    out = {"loss": tf.math.multiply_no_nan(tf.cast(loss, tf.float32), share)}
    if metric is not None:  # a replica without examples has a NaN mean: it weighs 0
        out["acc"] = tf.math.multiply_no_nan(metric_value(metric, logits, labels), share)
    return out


def _share(labels):
    """This replica's part of the global batch: its examples over all replicas' (the last, partial
    batch weighed by its real size); 1 on one device."""
    n_local = tf.cast(tf.shape(tf.nest.flatten(labels)[0])[0], tf.float32)
    n_global = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, n_local)
    return tf.math.divide_no_nan(n_local, n_global)


def train_step(model, optimizer, loss, *, metric=None, penalty=None, strategy=None, signature=None,
               per_call=1, compute_dtype=None):
    """The compiled step ``step(inputs, labels, position) -> {"loss", "acc"}`` (loss before the update).

    ``loss(logits, labels)`` the batch mean (e.g. ``tl.cost.cross_entropy``); ``metric`` reported
    too; ``penalty()`` added to what is differentiated (1.7.2's weight decay); ``position`` keys the
    dropout masks; ``strategy``: data-parallel, each replica training on its share of the batch;
    ``per_call`` > 1: that many steps in one call, a loop in the graph (:func:`_repeated`);
    ``compute_dtype``: e.g. "bfloat16" for mixed precision (:func:`forward`).
    """
    weights = model.trainable_weights

    def step(inputs, labels, position):  # Listing 1.2
        share = _share(labels) if strategy is not None else 1.0
        key = dropout_key(position)
        if strategy is not None:  # each replica draws its own masks
            key = tf.random.experimental.stateless_fold_in(
                key, tf.distribute.get_replica_context().replica_id_in_sync_group)
        with tf.GradientTape() as tape, dropout_seed(key):
            logits = forward(model, inputs, compute_dtype)
            _loss = loss(logits, labels)
            objective = _loss if strategy is None else _loss * share
            if penalty is not None:  # 1.7.2: (1.23)'s lambda * Omega, once per global step
                objective += tf.nn.scale_regularization_loss(penalty())
        grads = tape.gradient(objective, weights)
        optimizer.apply_gradients(zip(grads, weights))  # with a strategy: sums the replicas' gradients
        return _outputs(_loss, logits, labels, metric, share)

    if strategy is not None:
        check_built_in_scope(strategy, model, optimizer)
        with strategy.scope():
            optimizer.build(weights)  # its slots exist before tracing, mirrored like the weights
        step = _distributed(strategy, step)
    elif per_call > 1:
        step = _repeated(step, ["loss"] + (["acc"] if metric is not None else []))
        signature = signature and [*tf.nest.map_structure(_stacked, signature[:2]), POSITION]
    return Step(model, tf.function(step, input_signature=signature, reduce_retracing=True), training=True,
                per_call=per_call if strategy is None else 1)


def _stacked(spec):
    """The spec of a stack of batches of ``spec``."""
    return tf.TensorSpec([None, *spec.shape], spec.dtype)


def _repeated(step, names):
    """``step`` over k stacked batches (inputs [k, batch, ...]) at ``position``, ``position`` + 1, ...:
    one compiled call for k steps (less Python per step); the outputs per step, [k] each."""
    def steps(inputs, labels, position):
        k = tf.shape(tf.nest.flatten(labels)[0])[0]
        arrays = {name: tf.TensorArray(tf.float32, size=k) for name in names}
        for i in tf.range(k):
            batch = tf.nest.map_structure(lambda t: t[i], (inputs, labels))
            out = step(*batch, position + tf.stack([0, 0, tf.cast(i, tf.int64)]))
            arrays = {name: arrays[name].write(i, out[name]) for name in names}
        return {name: array.stack() for name, array in arrays.items()}
    return steps


def _distributed(strategy, replica_step):
    """``replica_step`` run on every replica, each on its contiguous share of a global batch (or
    on its part of an element of ``distribute.distribute_dataset``), the outputs summed."""
    def step(inputs, labels, position):
        def share_of(inputs, labels, position):
            ctx = tf.distribute.get_replica_context()
            n = tf.shape(tf.nest.flatten(labels)[0])[0]
            i, k = tf.cast(ctx.replica_id_in_sync_group, tf.int32), ctx.num_replicas_in_sync
            part = tf.nest.map_structure(lambda t: t[n * i // k:n * (i + 1) // k], (inputs, labels))
            return replica_step(*part, position)

        distributed = isinstance(tf.nest.flatten(labels)[0], tf.distribute.DistributedValues)
        outputs = strategy.run(replica_step if distributed else share_of, args=(inputs, labels, position))
        return {name: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
                for name, value in outputs.items()}
    return step
