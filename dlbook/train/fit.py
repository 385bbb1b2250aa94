"""``fit``, ``test``, ``predict`` with the book's ``tl.utils`` arguments, over the one training loop.

    history = fit(network, train_op=tf.optimizers.Adam(learning_rate=0.0001), cost=tl.cost.cross_entropy,
                  X_train=X_train, y_train=y_train, acc=acc, batch_size=256, n_epoch=20,
                  X_val=X_val, y_val=y_val, eval_train=True)
"""
import numpy as np
import tensorflow as tf

from dlbook import precision as precisions
from dlbook.errors import UsageError
from dlbook.session import open as open_session
from dlbook.train.batches import Batches
from dlbook.train.checks import check_positive, check_x, check_y, checked_fit_data, fingerprint, spec
from dlbook.train.evaluate import eval_step, evaluate
from dlbook.train.hooks import EarlyStopping, TensorBoard
from dlbook.train.loop import train_epochs
from dlbook.train.step import POSITION, train_step

PER_CALL = 8  # train steps per compiled call (a loop in the graph); progress, signals, NaN checks between calls


def _steps(network, train_op, cost, acc, x_spec, y_spec, strategy, dtype):
    """(train step, eval step) of ``network``, compiled once and kept on it for later calls."""
    steps = network.__dict__.setdefault("_dlbook_compiled", {})
    key = (train_op, cost, acc, x_spec, y_spec, strategy, dtype)
    if key not in steps:
        steps[key] = (train_step(network, train_op, cost, metric=acc, strategy=strategy,
                                 signature=[x_spec, y_spec, POSITION], per_call=PER_CALL, compute_dtype=dtype),
                      eval_step(network, cost, acc, signature=[x_spec, y_spec], compute_dtype=dtype))
    return steps[key]


def _hooks(run, network, early_stopping, tensorboard, step):
    """fit's hooks: early stopping on the validation loss, TensorBoard (tl.utils.fit's options)."""
    hooks = []
    if early_stopping is not None:
        hooks.append(EarlyStopping(run, network, patience=early_stopping, monitor="val_loss"))
    if tensorboard["directory"]:
        hooks.append(TensorBoard(tensorboard["directory"], every=tensorboard["every"],
                                 weights=network.trainable_weights if tensorboard["histograms"] else (),
                                 graph=step.function if tensorboard["graph"] else None))
    return hooks


def fit(network, train_op, cost, X_train, y_train, acc=None, batch_size=100, n_epoch=100, print_freq=1,
        X_val=None, y_val=None, eval_train=True, tensorboard_dir=None, tensorboard_epoch_freq=1,
        tensorboard_weight_histograms=True, tensorboard_graph_vis=True, *, shuffle=True, seed=None,
        early_stopping=None, checkpoint_dir=None, session=None, verbose=1, strategy=None, precision="float32"):
    """The book's ``tl.utils.fit``, fixed (every example, exact means, compiled) and extended.

    Arguments as ``tl.utils.fit``. Added: ``shuffle``; ``seed`` (order from (seed, epoch), dropout
    from (seed, epoch, step): exact resume); ``early_stopping`` (patience on val_loss, best weights
    restored); ``checkpoint_dir`` or ``session`` (a run directory: saved each epoch and on a signal,
    resumed by the same call); ``verbose`` (0, 1 bar, 2 a line); ``strategy`` (tf.distribute);
    ``precision`` ("float32", "mixed_bfloat16" or "auto": :mod:`dlbook.precision`; a resume keeps it).
    Returns the history: per-epoch lists ``loss``, ``time``, ``acc``, ``val_loss``, ``val_acc``.
    """
    check_positive(batch_size=batch_size, n_epoch=n_epoch, print_freq=print_freq,
                   tensorboard_epoch_freq=tensorboard_epoch_freq)
    if session is not None and checkpoint_dir is not None:
        raise UsageError("give checkpoint_dir or session, not both")
    asked, (precision, why) = precision, precisions.resolve(precision)
    X_train, y_train, X_val, y_val = checked_fit_data(network, X_train, y_train, X_val, y_val, early_stopping)
    run = session or open_session(checkpoint_dir, resume="auto")
    run.fix(batch_size=batch_size, shuffle=shuffle, seed=seed, examples=len(X_train),
            data=fingerprint(X_train, y_train), precision=precision)
    with (strategy or tf.distribute.get_strategy()).scope():  # errata: fit-second-call
        run.restore(network, train_op, verbose=bool(verbose))  # the optimizer is built before tracing
    if asked == "auto" and verbose:
        print(precisions.line(precision, why), flush=True)
    seed = run.state.setdefault("seed", int(np.random.randint(2**31)) if seed is None else seed)
    step, evaluation_step = _steps(network, train_op, cost, acc, spec(X_train), spec(y_train), strategy,
                                   precisions.COMPUTE_DTYPES[precision])
    hooks = _hooks(run, network, early_stopping, dict(
        directory=tensorboard_dir, every=tensorboard_epoch_freq, histograms=tensorboard_weight_histograms,
        graph=tensorboard_graph_vis), step)

    train = Batches(X_train, y_train, batch_size, shuffle=shuffle, seed=seed, per_call=step.per_call)
    val = None if X_val is None else Batches(X_val, y_val, batch_size)
    train_eval = Batches(train.inputs, train.labels, batch_size)

    def evaluation():  # as tl.utils.fit reports: with a validation set (and eval_train)
        if val is None:
            return {}
        row = evaluate(evaluation_step, val, prefix="val_")
        return {**(evaluate(evaluation_step, train_eval) if eval_train else {}), **row}

    history = train_epochs(run, step, train, n_epoch, seed=seed, evaluation=evaluation, hooks=hooks,
                           verbose=verbose, print_freq=print_freq)
    if early_stopping is not None and (best := hooks[0].restore()) is not None and hooks[0].stopped and verbose:
        print(f"Early stopping: no lower val_loss for {early_stopping} epochs; restoring the weights of "
              f"epoch {best}")
    network.eval()
    return {key: list(values) for key, values in history.items()}


def test(network, acc, X_test, y_test, batch_size, cost=None):
    """Evaluate ``network`` on a test set in eval mode; print and return the accuracy (as TL).

    ``batch_size=None`` evaluates the whole set in one batch. Returns ``acc``'s value, or the
    loss when ``acc`` is None.
    """
    if acc is None and cost is None:
        raise UsageError("test() needs acc or cost (or both) to have something to measure")
    X_test, probe = check_x(network, X_test, "X_test")
    y_test = check_y(y_test, "y_test", X_test, "X_test", probe)
    if batch_size is not None:
        check_positive(batch_size=batch_size)
    step = eval_step(network, cost, acc, signature=[spec(X_test), spec(y_test)])
    result = evaluate(step, Batches(X_test, y_test, batch_size or len(X_test)))
    if cost is not None:
        print(f"   test loss: {result['loss']:f}")
    if acc is not None:
        print(f"   test acc: {result['acc']:f}")
    return result["acc"] if acc is not None else result["loss"]


test.__test__ = False  # the book's name; keeps pytest from collecting it when imported into tests


def predict(network, X, batch_size=None):
    """The network's outputs (eval mode) for ALL rows of ``X``, as one NumPy array.

    ``batch_size=None`` runs the whole set as one batch.
    """
    X, _ = check_x(network, X, "X")
    if batch_size is not None:
        check_positive(batch_size=batch_size)
    forward = tf.function(lambda inputs: network(inputs), input_signature=[spec(X)])
    network.eval()
    batches = Batches(X, np.zeros(len(X)), batch_size or len(X))
    return np.concatenate([forward(inputs).numpy() for inputs, _ in batches])
