import math

import pytest

from pydl import schedules as S


def test_exponential_and_step_decay():
    s = S.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert s(0) == pytest.approx(0.1)
    assert s(10) == pytest.approx(0.05)
    assert s(5) == pytest.approx(0.1 * 0.5 ** 0.5)
    st = S.StepDecay(0.1, step_size=10, drop=0.5)
    assert st(9) == pytest.approx(0.1) and st(10) == pytest.approx(0.05) and st(25) == pytest.approx(0.025)


def test_inverse_time_decay():
    s = S.InverseTimeDecay(1.0, decay_steps=1, decay_rate=0.5)
    assert s(2) == pytest.approx(1 / (1 + 0.5 * 2))


def clr_reference(step, base, top, half, mode, gamma=1.0):
    # Smith (2017), section 3.1
    cycle = math.floor(1 + step / (2 * half))
    x = abs(step / half - 2 * cycle + 1)
    scale = {"triangular": 1.0, "triangular2": 1 / 2 ** (cycle - 1), "exp_range": gamma ** step}[mode]
    return base + (top - base) * max(0, 1 - x) * scale


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclical_learning_rate_shape(mode):
    s = S.CyclicalLearningRate(0.001, 0.006, step_size=4, mode=mode, gamma=0.99)
    for step in range(40):
        assert s(step) == pytest.approx(clr_reference(step, 0.001, 0.006, 4, mode, 0.99))
    assert s(0) == pytest.approx(0.001)
    assert s(4) == pytest.approx(0.001 + 0.005 * (0.99 ** 4 if mode == "exp_range" else 1))
    if mode == "triangular2":  # the second peak is half as high
        assert s(12) - 0.001 == pytest.approx(0.0025)


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        S.CyclicalLearningRate(mode="sine")
    with pytest.raises(ValueError):
        S.ExponentialDecay(0.1, 0, 0.5)


def test_round_trip():
    s = S.CyclicalLearningRate(0.01, 0.1, 3, "triangular2")
    assert S.deserialize(S.serialize(s))(7) == pytest.approx(s(7))
