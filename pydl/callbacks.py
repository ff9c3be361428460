"""Callbacks: code that runs at the edges of training (Keras's hooks and names).

    model.fit(x, y, callbacks=[EarlyStopping(monitor='val_loss', patience=3,
                                             restore_best_weights=True)])
"""
import csv
import math
import os
import time
import warnings

import numpy as np


class Callback:
    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass
    # Keras 1/2 names
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass


# Each per-batch hook and its Keras 1/2 alias (None: it has none): both run, the new name first.
_BATCH_ALIASES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end",
                  "on_test_batch_begin": None, "on_test_batch_end": None,
                  "on_predict_batch_begin": None, "on_predict_batch_end": None}


def _overrides(cb, hook):
    """Whether cb defines its own `hook`: in its class, or on the instance (LambdaCallback)."""
    return hook in vars(cb) or getattr(type(cb), hook, None) is not getattr(Callback, hook, None)


class CallbackList:
    """Runs a hook on every callback in order. Per-batch hooks (called thousands of times an epoch)
    skip the callbacks that do not override them or their Keras 1/2 alias."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for c in self.callbacks:
            c.set_model(model)
            c.set_params(params)
        self._batch_callbacks = {hook: [c for c in self.callbacks
                                        if _overrides(c, hook) or (alias is not None and _overrides(c, alias))]
                                 for hook, alias in _BATCH_ALIASES.items()}

    def has(self, hook):
        """Whether any callback would run for ``hook`` (so the caller can skip building its logs)."""
        return bool(self._batch_callbacks[hook]) if hook in self._batch_callbacks else bool(self.callbacks)

    def call(self, hook, *args):
        per_batch = hook in self._batch_callbacks
        alias = _BATCH_ALIASES.get(hook)
        for c in (self._batch_callbacks[hook] if per_batch else self.callbacks):
            getattr(c, hook)(*args)
            if alias:
                getattr(c, alias)(*args)


class History(Callback):
    """``model.fit`` returns this: ``history.history['loss']`` is the list of epoch losses."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


def _monitor_op(mode, monitor):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":  # Keras 3: the metric's direction; scores that grow when the model improves
        up = ("acc", "auc", "precision", "recall", "f1", "fbeta", "true_positives", "true_negatives")
        mode = "max" if any(u in monitor for u in up) else "min"
    return mode


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs; with
    ``restore_best_weights`` the model ends with the weights of its best epoch."""

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), int(patience)
        self.verbose, self.baseline, self.restore_best_weights = verbose, baseline, restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.mode = _monitor_op(mode, monitor)

    def _better(self, current, reference):
        if self.mode == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self.baseline if self.baseline is not None else (math.inf if self.mode == "min" else -math.inf)
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"EarlyStopping: '{self.monitor}' is not in the logs ({', '.join(logs or {})})")
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._better(current, self.best):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model (or its weights) after each epoch; with ``save_best_only`` only when
    ``monitor`` improved. ``filepath`` may contain ``{epoch}`` and log keys: 'm-{epoch:02d}.pydl'."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto"):
        super().__init__()
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.mode = _monitor_op(mode, monitor)
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"ModelCheckpoint: '{self.monitor}' is not in the logs; not saving")
                return
            better = current < self.best if self.mode == "min" else current > self.best
            if not better:
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                      f"saving model to {path}")
            self.best = current
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch: ``schedule(epoch, lr) -> new lr``."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        opt = self.model.optimizer
        try:
            lr = self.schedule(epoch, float(opt.learning_rate))
        except TypeError:
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, int, np.floating)) or not math.isfinite(lr):
            raise ValueError(f"LearningRateScheduler: the schedule returned {lr!r}, not a finite number")
        opt.learning_rate = float(lr)
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls for ``patience`` epochs."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__()
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau: factor must be < 1")
        self.monitor, self.factor, self.patience, self.verbose = monitor, float(factor), patience, verbose
        self.mode = _monitor_op(mode, monitor)
        self.min_delta, self.cooldown, self.min_lr = min_delta, cooldown, min_lr

    def on_train_begin(self, logs=None):
        self.wait, self.cooldown_counter = 0, 0
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        opt = self.model.optimizer
        logs["learning_rate"] = float(opt.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"ReduceLROnPlateau: '{self.monitor}' is not in the logs")
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        better = current < self.best - self.min_delta if self.mode == "min" else current > self.best + self.min_delta
        if better:
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(opt.learning_rate)
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    opt.learning_rate = new
                    if self.verbose:
                        print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: invalid loss, terminating training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """Write each epoch's logs as a CSV row."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = str(filename), separator, append

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self.file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer = None
        self.header_written = exists

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        keys = sorted(logs)
        if self.writer is None:
            self.writer = csv.writer(self.file, delimiter=self.sep)
            if not self.header_written:
                self.writer.writerow(["epoch"] + keys)
        self.writer.writerow([epoch] + [logs[k] for k in keys])
        self.file.flush()

    def on_train_end(self, logs=None):
        self.file.close()


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda e, logs: ...)``."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None, on_batch_end=None,
                 on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        for name, fn in dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                             on_train_batch_begin=on_batch_begin, on_train_batch_end=on_batch_end,
                             on_train_begin=on_train_begin, on_train_end=on_train_end, **kwargs).items():
            if fn is not None:
                setattr(self, name, fn)


class ProgbarLogger(Callback):
    """The progress display of ``fit``, ``evaluate`` and ``predict`` (verbose=1: a live bar;
    2: one line per epoch, or one line at the end of an evaluate/predict). Inside ``fit`` the
    validation pass shows no bar of its own: its results join the epoch's line as val_*."""

    def __init__(self, verbose=1, width=30):
        super().__init__()
        self.verbose, self.width = verbose, width
        self._in_fit = False

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()
        self.epoch = epoch
        if self.verbose == 1:
            print(f"Epoch {epoch + 1}/{self.params.get('epochs')}")

    @staticmethod
    def _fmt(logs):
        return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items() if isinstance(v, (int, float)))

    def _bar(self, done, logs):
        steps = self.params.get("steps") or 1
        filled = int(self.width * done / steps)
        bar = "=" * max(filled - 1, 0) + (">" if filled < self.width else "=") + "." * (self.width - filled)
        line = f"\r{done}/{steps} [{bar}] - {time.perf_counter() - self.start:.0f}s"
        text = self._fmt(logs or {})
        print(line + (f" - {text}" if text else ""), end="", flush=True)

    def _last_line(self, logs):
        """The final line: the full bar (verbose=1) or just the totals (verbose=2)."""
        dt = time.perf_counter() - self.start
        steps = self.params.get("steps") or 1
        text = self._fmt(logs or {})
        head = f"\r{steps}/{steps} [{'=' * self.width}]" if self.verbose == 1 else f"{steps}/{steps}"
        print(f"{head} - {dt:.1f}s" + (f" - {text}" if text else ""), flush=True)

    def on_train_batch_end(self, batch, logs=None):
        if self.verbose == 1:
            self._bar(batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        dt = time.perf_counter() - self.start
        if self.verbose == 1:
            self._last_line(logs)
        elif self.verbose == 2:
            print(f"Epoch {epoch + 1}/{self.params.get('epochs')} - {dt:.1f}s - {self._fmt(logs or {})}", flush=True)

    # evaluate and predict (silent inside fit, whose epoch line shows the validation results)
    def on_test_begin(self, logs=None):
        if not self._in_fit:  # inside fit, self.start times the epoch
            self.start = time.perf_counter()

    def on_test_batch_end(self, batch, logs=None):
        if self.verbose == 1 and not self._in_fit:
            self._bar(batch + 1, logs)

    def on_test_end(self, logs=None):
        if self.verbose and not self._in_fit:
            self._last_line(logs)

    def on_predict_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_predict_batch_end(self, batch, logs=None):
        if self.verbose == 1:
            self._bar(batch + 1, None)

    def on_predict_end(self, logs=None):
        if self.verbose:
            self._last_line(None)
