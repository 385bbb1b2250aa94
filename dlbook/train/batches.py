"""Batches of in-memory arrays, in an order that depends on (seed, epoch) only (fit, 1.10.6)."""
import math

import numpy as np
import tensorflow as tf


class Batches:
    """``for inputs, labels in batches:`` one epoch of batches; ``batches(epoch, step)`` the batches
    of ``epoch`` from ``step`` on, those an uninterrupted run got (the epoch loop's protocol).
    ``inputs`` and ``labels`` are arrays or tuples of arrays; the last batch is partial (errata:
    fit-partial-batch). ``per_call`` > 1 stacks up to that many full batches into one item,
    [k, batch, ...], for a step that runs k steps a call; the partial batch comes alone, [1, rest, ...]."""

    def __init__(self, inputs, labels, batch_size, *, shuffle=False, seed=0, per_call=1):
        self.inputs, self.labels = tf.nest.map_structure(tf.convert_to_tensor, (inputs, labels))
        self.n = int(tf.nest.flatten(self.labels)[0].shape[0])
        self.batch_size, self.shuffle, self.seed, self.per_call = batch_size, shuffle, seed, per_call
        self.epoch, self._skip = 0, 0

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def __call__(self, epoch, step=0):
        self.epoch, self._skip = epoch, step
        return iter(self)

    def order(self, epoch):
        """The example order of ``epoch``: a function of (seed, epoch) alone."""
        if not self.shuffle:
            return np.arange(self.n)
        return np.random.default_rng([self.seed % 2**63, epoch]).permutation(self.n)

    def spans(self, step=0):
        """(first, stop): the steps of each item from ``step`` on."""
        full = self.n // self.batch_size
        while step < len(self):
            stop = step + 1 if self.per_call == 1 or step >= full else min(step + self.per_call, full)
            yield step, stop
            step = stop

    def __iter__(self):
        order, skip, self._skip = self.order(self.epoch), self._skip, 0
        for first, stop in self.spans(skip):
            idx = tf.constant(order[first * self.batch_size:stop * self.batch_size], tf.int32)
            batch = tf.nest.map_structure(lambda t: tf.gather(t, idx), (self.inputs, self.labels))
            if self.per_call > 1:
                batch = tf.nest.map_structure(lambda t: tf.reshape(t, [stop - first, -1, *t.shape[1:]]), batch)
            yield batch
        self.epoch += 1
