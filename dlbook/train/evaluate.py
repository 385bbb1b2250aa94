"""The evaluation loop: a model's mean loss and metric over a set, in eval mode."""
import tensorflow as tf

from dlbook.train.step import Step, forward, metric_value


def eval_step(model, loss=None, metric=None, *, signature=None, compute_dtype=None):
    """The compiled ``step(inputs, labels) -> {"loss", "acc"}`` of ``model`` in eval mode
    (``compute_dtype``: as :func:`~dlbook.train.step.train_step`'s)."""
    def step(inputs, labels):
        logits = forward(model, inputs, compute_dtype)
        out = {} if loss is None else {"loss": tf.cast(loss(logits, labels), tf.float32)}
        if metric is not None:
            out["acc"] = metric_value(metric, logits, labels)
        return out
    return Step(model, tf.function(step, input_signature=signature, reduce_retracing=True), training=False)


def evaluate(step, batches, prefix=""):
    """Mean of each of ``step``'s outputs over every batch, weighted by batch size (exact means
    over the set, the last partial batch included), e.g. ``{"val_loss": ..., "val_acc": ...}``."""
    sums, seen = {}, 0
    for inputs, labels in batches:
        n = int(tf.nest.flatten(labels)[0].shape[0])
        for name, value in step(inputs, labels).items():
            sums[name] = sums.get(name, 0.0) + float(value) * n
        seen += n
    return {prefix + name: total / seen for name, total in sums.items()}
