"""The one training loop (docs/design.md): ``step`` (Listing 1.2's GradientTape step), ``evaluate``,
``loop`` (epochs over a :mod:`dlbook.session` run), ``hooks`` (early stopping, TensorBoard), ``fit``."""
from dlbook.train.batches import Batches
from dlbook.train.evaluate import eval_step, evaluate
from dlbook.train.fit import fit, predict, test
from dlbook.train.hooks import EarlyStopping, Hook, TensorBoard
from dlbook.train.loop import train_epochs
from dlbook.train.step import POSITION, position, train_step

__all__ = ["train_step", "eval_step", "evaluate", "train_epochs", "Batches", "Hook", "EarlyStopping",
           "TensorBoard", "fit", "test", "predict", "position", "POSITION"]
