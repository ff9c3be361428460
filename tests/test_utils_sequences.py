"""pydl.utils.sequences: padding, windows over a series and scaling, against hand-built cases
and scikit-learn's scalers."""
import numpy as np
import pytest

from pydl.utils.sequences import (MinMaxScaler, StandardScaler, make_windows, pad_sequences,
                                  timeseries_dataset_from_array)


def test_pad_sequences_pre_and_post():
    seqs = [[1, 2, 3], [4], [5, 6, 7, 8, 9]]
    np.testing.assert_array_equal(pad_sequences(seqs), [[0, 0, 1, 2, 3], [0, 0, 0, 0, 4], [5, 6, 7, 8, 9]])
    np.testing.assert_array_equal(pad_sequences(seqs, padding="post"),
                                  [[1, 2, 3, 0, 0], [4, 0, 0, 0, 0], [5, 6, 7, 8, 9]])
    # truncating 'pre' keeps the end, 'post' the start
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=2), [[2, 3], [0, 4], [8, 9]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=2, truncating="post", padding="post", value=-1),
                                  [[1, 2], [4, -1], [5, 6]])
    assert pad_sequences(seqs).dtype == np.int32
    assert pad_sequences([[], [1]]).tolist() == [[0], [1]]
    assert pad_sequences([]).shape == (0, 0)


def test_pad_sequences_of_feature_vectors():
    seqs = [np.ones((2, 3)), np.full((1, 3), 2.0)]
    out = pad_sequences(seqs, dtype="float32")
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out[1], [[0, 0, 0], [2, 2, 2]])


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="padding must be 'pre' or 'post'"):
        pad_sequences([[1]], padding="both")
    with pytest.raises(ValueError, match="sequence 1 is 5, not a sequence"):
        pad_sequences([[1], 5])
    with pytest.raises(ValueError, match="non-integer values"):
        pad_sequences([[1.5]])
    with pytest.raises(ValueError, match="different shapes"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 4))], dtype="float32")


def test_timeseries_windows_and_targets_by_hand():
    data = np.arange(10)
    # windows of 3, targets the value right after each window
    ds = timeseries_dataset_from_array(data, data[3:], sequence_length=3, batch_size=4)
    batches = [ds[i] for i in range(len(ds))]
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    np.testing.assert_array_equal(x, [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6], [5, 6, 7], [6, 7, 8]])
    np.testing.assert_array_equal(y, [3, 4, 5, 6, 7, 8, 9])
    assert [len(b[0]) for b in batches] == [4, 3]


def test_timeseries_stride_sampling_rate_and_span():
    data = np.arange(20)[:, None] * np.array([1, 10])
    ds = timeseries_dataset_from_array(data, None, sequence_length=3, sequence_stride=4, sampling_rate=2,
                                       start_index=1, end_index=15, batch_size=100)
    x = ds[0]
    # starts 1, 5, 9 (a window spans 5 rows: 9 + 4 = 13 < 15; 13 + 4 = 17 is past end_index)
    np.testing.assert_array_equal(x[:, :, 0], [[1, 3, 5], [5, 7, 9], [9, 11, 13]])
    assert x.shape == (3, 3, 2)


def test_timeseries_shuffle_is_seeded_and_complete():
    data = np.arange(50)
    a = timeseries_dataset_from_array(data, data, 5, shuffle=True, seed=3, batch_size=8)
    b = timeseries_dataset_from_array(data, data, 5, shuffle=True, seed=3, batch_size=8)
    xa = np.concatenate([a[i][0] for i in range(len(a))])
    xb = np.concatenate([b[i][0] for i in range(len(b))])
    np.testing.assert_array_equal(xa, xb)
    assert sorted(xa[:, 0].tolist()) == list(range(46))
    ya = np.concatenate([a[i][1] for i in range(len(a))])
    np.testing.assert_array_equal(ya, xa[:, 0])  # targets[i] belongs to the window starting at i


def test_timeseries_errors():
    with pytest.raises(ValueError, match="no window of 5 steps"):
        timeseries_dataset_from_array(np.arange(4), None, 5)
    with pytest.raises(ValueError, match="sequence_length must be an int >= 1"):
        timeseries_dataset_from_array(np.arange(4), None, 0)
    with pytest.raises(ValueError, match="start_index < end_index"):
        timeseries_dataset_from_array(np.arange(4), None, 2, start_index=3, end_index=2)


def test_make_windows_next_value():
    x, y = make_windows(np.arange(6.0), window=3)
    np.testing.assert_array_equal(x[..., 0], [[0, 1, 2], [1, 2, 3], [2, 3, 4]])
    np.testing.assert_array_equal(y, [3, 4, 5])
    assert x.shape == (3, 3, 1)
    x, y = make_windows(np.arange(12.0).reshape(6, 2), window=2, horizon=2)
    assert x.shape == (3, 2, 2) and y.shape == (3, 2, 2)
    np.testing.assert_array_equal(y[0], [[4, 5], [6, 7]])
    with pytest.raises(ValueError, match="NaN or inf \\(first at step 2\\)"):
        make_windows(np.array([1.0, 2.0, np.nan, 3.0]), 2)
    with pytest.raises(ValueError, match="no window of 5"):
        make_windows(np.arange(5.0), 5)


def test_scalers_match_scikit_learn_and_invert():
    sk = pytest.importorskip("sklearn.preprocessing")
    rng = np.random.default_rng(0)
    train = rng.standard_normal((50, 3)) * [1, 10, 100] + [0, 5, -3]
    test = rng.standard_normal((20, 3)) * 50
    for ours, theirs in ((MinMaxScaler(), sk.MinMaxScaler()), (MinMaxScaler((-1, 1)), sk.MinMaxScaler((-1, 1))),
                         (StandardScaler(), sk.StandardScaler())):
        ours.fit(train)
        theirs.fit(train)
        np.testing.assert_allclose(ours.transform(test), theirs.transform(test), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.inverse_transform(ours.transform(test)), test, rtol=1e-10, atol=1e-9)
    s = MinMaxScaler().fit(np.array([[2.0], [2.0]]))
    np.testing.assert_array_equal(s.transform(np.array([[2.0]])), [[0.0]])
    with pytest.raises(ValueError, match="call fit"):
        StandardScaler().transform(train)
    with pytest.raises(ValueError, match="fitted on samples of shape \\(3,\\)"):
        StandardScaler().fit(train).transform(train[:, :2])


def test_fit_reads_the_windows_directly():
    import pydl
    from pydl.layers import Dense, Flatten
    from pydl.models import Sequential
    series = np.sin(np.arange(300) / 10).astype(np.float32)[:, None]
    ds = timeseries_dataset_from_array(series, series[8:], sequence_length=8, batch_size=32)
    pydl.manual_seed(0)
    model = Sequential([Flatten(input_shape=(8, 1)), Dense(1)])
    model.compile(optimizer=pydl.optimizers.Adam(0.02), loss="mse")
    h = model.fit(ds, epochs=40, verbose=0)
    assert h.history["loss"][-1] < 0.01 < h.history["loss"][0]  # a sine is a linear function of its past
    assert model.predict(ds, verbose=0).shape == (300 - 8, 1)


def test_gradient_through_time_is_the_input_gradient_per_step():
    import pydl
    from pydl import layers as L
    from pydl.models import Sequential
    from pydl.utils.sequences import gradient_through_time
    T, U = 7, 5
    rng = np.random.default_rng(0)
    x, target = rng.standard_normal((4, T, 3)).astype(np.float32), rng.standard_normal((4, U)).astype(np.float32)
    pydl.manual_seed(0)
    model = Sequential([L.SimpleRNN(U, input_shape=(T, 3))])
    model.compile(optimizer="sgd", loss="mse")
    g = gradient_through_time(model, x, target)
    xt = pydl.tensor(x, requires_grad=True)
    d = model(xt, training=True) - pydl.tensor(target)
    (d * d).mean().backward()
    want = np.sqrt((xt.grad.numpy().astype(np.float64) ** 2).sum(2)).mean(0)
    np.testing.assert_allclose(g, want, rtol=1e-5)
    assert g.shape == (T,)
