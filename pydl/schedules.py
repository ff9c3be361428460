"""Learning-rate schedules: objects called with the step (batch) number that return the rate.
Pass one as an optimizer's ``learning_rate``; the optimizer calls it every step.

Decays (Keras's formulas, with ``staircase`` for step decay):
    exponential:  lr0 * rate ** (step / decay_steps)
    inverse time: lr0 / (1 + rate * step / decay_steps)
Leslie Smith's cyclical rates ("Cyclical Learning Rates for Training Neural Networks", 2017):
    cycle = floor(1 + step / (2 * step_size)),  x = |step / step_size - 2 * cycle + 1|
    lr = base + (max - base) * max(0, 1 - x) * scale(cycle, step)
    triangular: scale = 1;  triangular2: 1 / 2 ** (cycle - 1);  exp_range: gamma ** step
"""
import math

from ._registry import Configurable
from ._registry import deserialize as _deserialize, serialize as _serialize


class LearningRateSchedule(Configurable):
    def __call__(self, step):
        raise NotImplementedError


class ExponentialDecay(LearningRateSchedule):
    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        if decay_steps <= 0:
            raise ValueError(f"ExponentialDecay: decay_steps must be positive, got {decay_steps}")
        self.initial_learning_rate, self.decay_steps = float(initial_learning_rate), decay_steps
        self.decay_rate, self.staircase = float(decay_rate), bool(staircase)

    def __call__(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p

    def get_config(self):
        return dict(initial_learning_rate=self.initial_learning_rate, decay_steps=self.decay_steps,
                    decay_rate=self.decay_rate, staircase=self.staircase)


class StepDecay(ExponentialDecay):
    """Multiply the rate by ``drop`` every ``step_size`` steps (exponential decay, staircase)."""

    def __init__(self, initial_learning_rate, step_size, drop=0.5):
        super().__init__(initial_learning_rate, step_size, drop, staircase=True)

    def get_config(self):
        return dict(initial_learning_rate=self.initial_learning_rate, step_size=self.decay_steps,
                    drop=self.decay_rate)


class InverseTimeDecay(LearningRateSchedule):
    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        if decay_steps <= 0:
            raise ValueError(f"InverseTimeDecay: decay_steps must be positive, got {decay_steps}")
        self.initial_learning_rate, self.decay_steps = float(initial_learning_rate), decay_steps
        self.decay_rate, self.staircase = float(decay_rate), bool(staircase)

    def __call__(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1 + self.decay_rate * p)

    def get_config(self):
        return dict(initial_learning_rate=self.initial_learning_rate, decay_steps=self.decay_steps,
                    decay_rate=self.decay_rate, staircase=self.staircase)


class CyclicalLearningRate(LearningRateSchedule):
    """Leslie Smith's cyclical learning rate; ``mode`` is 'triangular', 'triangular2' or
    'exp_range'. ``step_size`` is half a cycle, in steps (Smith suggests 2-10 epochs' worth)."""

    MODES = ("triangular", "triangular2", "exp_range")

    def __init__(self, base_lr=0.001, max_lr=0.006, step_size=2000, mode="triangular", gamma=1.0):
        if mode not in self.MODES:
            raise ValueError(f"CyclicalLearningRate: mode must be one of {self.MODES}, got {mode!r}")
        if step_size <= 0:
            raise ValueError(f"CyclicalLearningRate: step_size must be positive, got {step_size}")
        self.base_lr, self.max_lr, self.step_size = float(base_lr), float(max_lr), step_size
        self.mode, self.gamma = mode, float(gamma)

    def __call__(self, step):
        cycle = math.floor(1 + step / (2 * self.step_size))
        x = abs(step / self.step_size - 2 * cycle + 1)
        if self.mode == "triangular":
            scale = 1.0
        elif self.mode == "triangular2":
            scale = 1.0 / (2.0 ** (cycle - 1))
        else:
            scale = self.gamma ** step
        return self.base_lr + (self.max_lr - self.base_lr) * max(0.0, 1.0 - x) * scale

    def get_config(self):
        return dict(base_lr=self.base_lr, max_lr=self.max_lr, step_size=self.step_size, mode=self.mode,
                    gamma=self.gamma)


_CLASSES = {c.__name__: c for c in (ExponentialDecay, StepDecay, InverseTimeDecay, CyclicalLearningRate)}


serialize = _serialize  # {"class_name": ..., "config": obj.get_config()}


def deserialize(d):
    return _deserialize("schedule", _CLASSES, d)
