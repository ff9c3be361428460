"""pydl.utils.layer_outputs and the pictures of issue 8 (filters, feature maps, image grids,
training curves). The figures' contents are checked through what matplotlib holds."""
import numpy as np
import pytest

import pydl
from pydl.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from pydl.models import Sequential
from pydl.utils import layer_outputs


def small_cnn():
    pydl.manual_seed(0)
    return Sequential([Conv2D(4, 3, activation="relu", input_shape=(1, 8, 8), name="c1"),
                       MaxPooling2D(2, name="p1"), Flatten(name="f"), Dropout(0.5, name="d"),
                       Dense(3, activation="softmax", name="out")])


def test_layer_outputs_chain_to_the_prediction():
    model = small_cnn()
    x = np.random.default_rng(0).random((2, 1, 8, 8)).astype(np.float32)
    outs = layer_outputs(model, x)
    assert [n for n, _, _ in outs] == ["c1", "p1", "f", "d", "out"]
    assert [tuple(o.shape) for _, _, o in outs] == [(2, 4, 6, 6), (2, 4, 3, 3), (2, 36), (2, 36), (2, 3)]
    np.testing.assert_allclose(outs[-1][2].numpy(), model.predict(x, verbose=0), rtol=1e-6)
    # inference mode: Dropout passes its input through unchanged
    np.testing.assert_array_equal(outs[3][2].numpy(), outs[2][2].numpy())
    # the first map by hand: relu(conv) of the layer's own weights
    w, b = model.layers[0].get_weights()
    by_hand = max(0.0, float((x[0, 0, 2:5, 1:4] * w[1, 0]).sum() + b[1]))
    assert outs[0][2].numpy()[0, 1, 2, 1] == pytest.approx(by_hand, rel=1e-5, abs=1e-6)
    assert not outs[0][2].requires_grad


def test_layer_outputs_refuses_what_is_not_a_model():
    with pytest.raises(TypeError, match="expected a pydl model"):
        layer_outputs(object(), np.zeros((1, 3)))


def test_layer_outputs_of_a_functional_model_follow_the_skip():
    from pydl import Input, Model
    from pydl.layers import Add
    pydl.manual_seed(1)
    inp = Input((4,), name="x")
    h = Dense(4, activation="relu", name="f")(inp)
    s = Add(name="skip")([inp, h])
    out = Dense(2, name="head")(s)
    model = Model(inp, out)
    x = np.random.default_rng(3).standard_normal((5, 4)).astype(np.float32)
    got = {name: o.numpy() for name, _, o in layer_outputs(model, x)}
    assert list(got) == ["f", "skip", "head"]
    w, b = model.get_layer("f").get_weights()
    f = np.maximum(x @ w + b, 0)
    np.testing.assert_allclose(got["f"], f, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["skip"], x + f, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["head"], model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


mpl = pytest.importorskip("matplotlib", reason="matplotlib is not installed (pip install matplotlib)")


@pytest.fixture
def plt():
    from pydl.utils.plots import get_pyplot
    p = get_pyplot()
    yield p
    p.close("all")


def _shown(fig):
    """The arrays drawn by imshow in a figure, in axes order."""
    return [ax.images[0].get_array() for ax in fig.axes if ax.images]


def test_plot_filters_draws_each_filter(plt):
    from pydl.utils.plots import plot_filters
    model = small_cnn()
    fig = plot_filters(model.layers[0], plt=plt, cols=3)
    w = model.layers[0].get_weights()[0]
    drawn = _shown(fig)
    assert len(drawn) == 4
    for i in range(4):
        np.testing.assert_allclose(np.asarray(drawn[i]), w[i, 0], rtol=1e-6)
    with pytest.raises(ValueError, match="4-D"):
        plot_filters(np.zeros((3, 3)), plt=plt)
    with pytest.raises(ValueError, match="channel 2 out of range"):
        plot_filters(model.layers[0], plt=plt, channel=2)


def test_plot_feature_maps_draws_conv_and_pool_outputs(plt):
    from pydl.utils.plots import plot_feature_maps
    model = small_cnn()
    x = np.random.default_rng(1).random((1, 8, 8)).astype(np.float32)
    fig = plot_feature_maps(model, x, plt=plt, max_maps=4, cols=4)
    drawn = _shown(fig)
    outs = layer_outputs(model, x[None])
    expected = [outs[0][2].numpy()[0, i] for i in range(4)] + [outs[1][2].numpy()[0, i] for i in range(4)]
    assert len(drawn) == 8
    for d, e in zip(drawn, expected):
        np.testing.assert_allclose(np.asarray(d), e, rtol=1e-6)


def test_plot_images_and_history(plt):
    from pydl.utils.plots import plot_history, plot_images
    imgs = np.random.default_rng(2).random((5, 1, 4, 4))
    fig = plot_images(imgs, titles=list("abcde"), plt=plt, cols=3)
    assert len(_shown(fig)) == 5
    np.testing.assert_allclose(np.asarray(_shown(fig)[2]), imgs[2, 0])
    with pytest.raises(ValueError, match="1 or 3 channels"):
        plot_images(np.zeros((2, 2, 4, 4)), plt=plt)
    logs = {"loss": [1.0, 0.5], "val_loss": [1.2, 0.8], "accuracy": [0.3, 0.6]}
    fig = plot_history(logs, plt=plt)
    lines = {ln.get_label(): list(ln.get_ydata()) for ax in fig.axes for ln in ax.lines}
    assert lines == {"training loss": [1.0, 0.5], "validation loss": [1.2, 0.8], "training accuracy": [0.3, 0.6]}
    with pytest.raises(ValueError, match="not in the history"):
        plot_history(logs, plt=plt, metrics=["auc"])
