"""The seeded generator: repeatable, independent of the thread count, right statistics."""
import numpy as np
import pytest

import pydl

DRAWS = {
    "rand": lambda: pydl.rand(300, 400),
    "randn": lambda: pydl.randn(300, 400),
    "uniform": lambda: pydl.uniform((300, 400), -2.0, 5.0),
    "normal": lambda: pydl.normal((300, 400), 3.0, 0.5),
    "bernoulli": lambda: pydl.bernoulli((300, 400), 0.3),
}


@pytest.mark.parametrize("name", DRAWS)
def test_same_seed_same_numbers(name):
    pydl.manual_seed(123)
    a = DRAWS[name]().numpy().copy()
    b = DRAWS[name]().numpy().copy()
    pydl.manual_seed(123)
    a2 = DRAWS[name]().numpy().copy()
    b2 = DRAWS[name]().numpy().copy()
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)
    assert not np.array_equal(a, b)  # the stream moves on
    pydl.manual_seed(124)
    assert not np.array_equal(DRAWS[name]().numpy(), a)
    assert pydl.initial_seed() == 124


@pytest.mark.parametrize("name", DRAWS)
def test_independent_of_thread_count(name):
    # 120 000 elements: above the size where the fill runs in parallel
    pydl.set_num_threads(1)
    pydl.manual_seed(7)
    one = DRAWS[name]().numpy().copy()
    pydl.set_num_threads(2)
    assert pydl.get_num_threads() == 2
    pydl.manual_seed(7)
    two = DRAWS[name]().numpy().copy()
    np.testing.assert_array_equal(one, two)


def test_float64_draws_repeatable():
    pydl.manual_seed(5)
    a = pydl.randn(1000, dtype=pydl.float64).numpy().copy()
    pydl.manual_seed(5)
    b = pydl.randn(1000, dtype=pydl.float64).numpy()
    assert a.dtype == np.float64
    np.testing.assert_array_equal(a, b)


N = 100_000


def test_rand_statistics():
    pydl.manual_seed(0)
    x = pydl.rand(N, dtype=pydl.float64).numpy()
    assert x.min() >= 0.0 and x.max() < 1.0
    # mean 1/2, std 1/sqrt(12); standard errors ~0.0009 and ~0.0006: tolerances are 5 sigma
    assert abs(x.mean() - 0.5) < 0.0046
    assert abs(x.std() - 1 / np.sqrt(12)) < 0.003
    hist, _ = np.histogram(x, bins=10, range=(0, 1))
    assert np.all(np.abs(hist - N / 10) < 5 * np.sqrt(N / 10))


def test_randn_statistics():
    pydl.manual_seed(0)
    x = pydl.randn(N, dtype=pydl.float64).numpy()
    assert abs(x.mean()) < 5 / np.sqrt(N)
    assert abs(x.std() - 1.0) < 5 * np.sqrt(0.5 / N)
    assert abs(np.mean(np.abs(x) < 1.0) - 0.6827) < 0.0075  # the 68% rule
    assert np.all(np.isfinite(x))


def test_uniform_normal_bernoulli_statistics():
    pydl.manual_seed(1)
    u = pydl.uniform((N,), -2.0, 6.0).numpy()
    assert u.min() >= -2.0 and u.max() < 6.0
    assert abs(u.mean() - 2.0) < 5 * 8 / np.sqrt(12 * N)
    n = pydl.normal((N,), 3.0, 0.5).numpy()
    assert abs(n.mean() - 3.0) < 5 * 0.5 / np.sqrt(N)
    assert abs(n.std() - 0.5) < 5 * 0.5 * np.sqrt(0.5 / N)
    b = pydl.bernoulli((N,), 0.3).numpy()
    assert set(np.unique(b)) <= {0.0, 1.0}
    assert abs(b.mean() - 0.3) < 5 * np.sqrt(0.3 * 0.7 / N)
    assert pydl.bernoulli((100,), 0.0).numpy().sum() == 0
    assert pydl.bernoulli((100,), 1.0).numpy().sum() == 100


def test_float32_uniform_never_reaches_high():
    pydl.manual_seed(2)
    x = pydl.uniform((N,), 0.0, 1.0, dtype=pydl.float32).numpy()
    assert x.max() < 1.0 and x.dtype == np.float32


def test_consecutive_draws_are_uncorrelated():
    pydl.manual_seed(3)
    a = pydl.randn(N, dtype=pydl.float64).numpy()
    b = pydl.randn(N, dtype=pydl.float64).numpy()
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / np.sqrt(N)
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 5 / np.sqrt(N)
