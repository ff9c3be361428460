"""Data that comes in batches: a Python generator, or a ``Sequence`` (Keras 3's PyDataset).

``model.fit(x)`` takes, besides arrays, either of:

* a **generator** (or any iterator) yielding ``(x, y)`` or ``(x, y, sample_weight)`` batches.
  A generator has no length, so ``fit`` needs ``steps_per_epoch`` (how many batches make an
  epoch); every epoch draws that many more batches from the same generator, as Keras does.
  Without ``steps_per_epoch`` fit raises (an endless generator would never end its epoch).
* a **Sequence**: a class with ``__len__`` (batches per epoch), ``__getitem__(i)`` (batch i)
  and optionally ``on_epoch_end()`` (called after every epoch: reshuffle there). Its length is
  the epoch, unless ``steps_per_epoch`` says fewer. ``fit(shuffle=True)`` visits the batches
  in a new random order every epoch (Keras's rule for a PyDataset).

``evaluate``/``predict`` take the same, with ``steps`` in place of ``steps_per_epoch``; and
``fit(validation_data=...)`` takes one with ``validation_steps``.

    class Digits(pydl.data.Sequence):
        def __init__(self, x, y, batch_size):
            self.x, self.y, self.batch_size = x, y, batch_size
        def __len__(self):
            return -(-len(self.x) // self.batch_size)
        def __getitem__(self, i):
            s = slice(i * self.batch_size, (i + 1) * self.batch_size)
            return self.x[s], self.y[s]
"""
import collections.abc
import numbers

import numpy as np


class Sequence:
    """The base of a batch dataset (Keras 3's ``PyDataset``, Keras 2's ``Sequence``): override
    ``__len__`` and ``__getitem__``; ``on_epoch_end`` is optional."""

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__}: a Sequence defines __len__ (batches per epoch)")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__}: a Sequence defines __getitem__(index) -> (x, y)")

    def on_epoch_end(self):
        """Called by fit after every epoch (shuffle the data here if you like)."""

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


PyDataset = Sequence  # Keras 3's name


def is_batch_source(x):
    """Whether ``x`` is a generator/iterator or a Sequence (not arrays, lists or dicts of arrays)."""
    if isinstance(x, Sequence):
        return True
    if isinstance(x, (np.ndarray, list, tuple, dict, str, bytes)) or hasattr(x, "__array__"):
        return False
    return isinstance(x, collections.abc.Iterator)


def _steps_arg(name, arg, steps):
    if steps is None:
        return None
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"{name}: {arg} must be a positive int (batches), got {steps!r}")
    return int(steps)


def _split_batch(name, batch, index, need_y):
    """A batch as (x, y, sample_weight): a tuple of 1, 2 or 3 (Keras's forms)."""
    if isinstance(batch, tuple) and 1 <= len(batch) <= 3:
        x, y, sw = (tuple(batch) + (None, None))[:3]
    elif isinstance(batch, tuple) or isinstance(batch, list) and need_y:
        raise ValueError(f"{name}: batch {index} is a {type(batch).__name__} of {len(batch)} items; a batch is "
                         "(x, y) or (x, y, sample_weight), a tuple")
    else:
        x, y, sw = batch, None, None
    if need_y and y is None:
        raise ValueError(f"{name}: batch {index} has no targets: yield (x, y) or (x, y, sample_weight)")
    return x, y, sw


class BatchSource:
    """What fit/evaluate/predict read a generator or Sequence through: ``first`` (the first
    batch, read early so the model can be built and its metrics set up), then ``epoch()`` per
    epoch, yielding (step, x, y, sample_weight) ``steps`` times."""

    def __init__(self, data, steps, name, steps_arg, need_y=True, shuffle=False, seed=None):
        self.name, self.need_y = name, need_y
        self.steps_arg = steps_arg
        self.data = data
        steps = _steps_arg(name, steps_arg, steps)
        self.sequence = isinstance(data, Sequence)
        if self.sequence:
            n = len(data)
            if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
                raise ValueError(f"{name}: the Sequence {type(data).__name__} has length {n!r}: it needs at least "
                                 "one batch")
            if steps is not None and steps > n:
                raise ValueError(f"{name}: {steps_arg}={steps} but the Sequence {type(data).__name__} has only {n} "
                                 "batches")
            self.steps = steps or int(n)
            self._order_rng = np.random.default_rng(seed) if shuffle else None
        else:
            if steps is None:
                raise ValueError(f"{name}: x is a generator, which has no length: give {steps_arg} (the number of "
                                 "batches per epoch), or wrap the data in a pydl.data.Sequence")
            self.steps = steps
        self._pending = None
        self.first = self._read(0, 0)
        self._pending = self.first

    def _read(self, step, index):
        if self.sequence:
            batch = self.data[index]
        else:
            try:
                batch = next(self.data)
            except StopIteration:
                raise ValueError(f"{self.name}: the generator ran out after {step} of this epoch's {self.steps} "
                                 "batches: make it endless (while True: ... yield) or ask for fewer steps") from None
        return _split_batch(self.name, batch, index, self.need_y)

    def epoch(self):
        order = range(self.steps)
        if self.sequence and self._order_rng is not None:
            order = self._order_rng.permutation(len(self.data))[:self.steps]
        for step, index in enumerate(order):
            if self._pending is not None and (not self.sequence or index == 0):
                batch, self._pending = self._pending, None
            else:
                self._pending = None
                batch = self._read(step, int(index))
            yield (step,) + batch
        self._pending = None

    def end_epoch(self):
        if self.sequence:
            self.data.on_epoch_end()
