"""Bad input to the CNN ops, layers and models (issue 8, item 8): a kernel or pool larger than
the padded input, a non-positive stride or dilation, channels not divisible by groups, the
wrong rank, NHWC data given to an NCHW model. Each gets the right exception type, its message
names the op or the layer and the shapes involved, and it comes before any weight (or the
optimizer's state, or BatchNormalization's moving statistics) has changed."""
import numpy as np
import pytest

import pydl
from pydl import functional as F
from pydl import layers as L
from pydl.models import Sequential


def T(*shape):
    return pydl.tensor(np.random.default_rng(0).random(shape).astype(np.float32))


def raises(exc, fn, *words):
    """fn() raises exactly `exc` (not a subclass chosen by accident) with each of `words` in its message."""
    with pytest.raises(Exception) as info:
        fn()
    assert type(info.value) is exc, f"{type(info.value).__name__}: {info.value}"
    text = str(info.value)
    for w in words:
        assert w in text, f"{w!r} not in {text!r}"
    return text


# ---------------------------------------------------------------- the ops
OPS = {
    # a kernel larger than the padded input
    "conv2d kernel > input": (lambda: F.conv2d(T(1, 1, 3, 3), T(1, 1, 5, 5)),
                              ["conv2d", "(1, 1, 3, 3)", "(1, 1, 5, 5)"]),
    "conv2d kernel > padded input": (lambda: F.conv2d(T(1, 1, 3, 3), T(1, 1, 6, 6), padding=1),
                                     ["conv2d", "(1, 1, 3, 3)", "(1, 1, 6, 6)", "5x5"]),
    "conv2d dilated kernel > input": (lambda: F.conv2d(T(1, 1, 4, 4), T(1, 1, 3, 3), dilation=2),
                                      ["conv2d", "(1, 1, 4, 4)", "(1, 1, 3, 3)"]),
    "conv1d kernel > input": (lambda: F.conv1d(T(1, 1, 3), T(1, 1, 5)), ["conv1d", "(1, 1, 3)", "(1, 1, 5)"]),
    "max_pool2d kernel > input": (lambda: F.max_pool2d(T(1, 1, 2, 2), 3), ["max_pool2d", "(3, 3)", "(1, 1, 2, 2)"]),
    "avg_pool2d kernel > input": (lambda: F.avg_pool2d(T(1, 1, 2, 2), 3), ["avg_pool2d", "(3, 3)", "(1, 1, 2, 2)"]),
    "max_pool1d kernel > input": (lambda: F.max_pool1d(T(1, 1, 2), 3), ["max_pool1d", "(1, 1, 2)"]),
    # non-positive stride or dilation
    "conv2d stride 0": (lambda: F.conv2d(T(1, 1, 5, 5), T(1, 1, 3, 3), stride=0),
                        ["conv2d", "stride", "(1, 1, 5, 5)", "(1, 1, 3, 3)"]),
    "conv2d stride -1 'same'": (lambda: F.conv2d(T(1, 1, 5, 5), T(1, 1, 3, 3), stride=(1, -1), padding="same"),
                                ["conv2d", "stride", "-1", "(1, 1, 5, 5)"]),
    "conv2d dilation 0": (lambda: F.conv2d(T(1, 1, 5, 5), T(1, 1, 3, 3), dilation=(0, 1)),
                          ["conv2d", "dilation", "(1, 1, 5, 5)"]),
    "conv1d stride 0": (lambda: F.conv1d(T(1, 1, 5), T(1, 1, 3), stride=0), ["conv1d", "stride", "(1, 1, 5)"]),
    "conv1d causal dilation 0": (lambda: F.conv1d(T(1, 1, 5), T(1, 1, 3), padding="causal", dilation=0),
                                 ["conv1d", "dilation", "(1, 1, 5)"]),
    "conv2d_transpose stride 0": (lambda: F.conv2d_transpose(T(1, 2, 3, 3), T(2, 1, 3, 3), stride=0),
                                  ["conv2d_transpose", "stride", "(1, 2, 3, 3)"]),
    "conv2d_transpose dilation 0": (lambda: F.conv2d_transpose(T(1, 2, 3, 3), T(2, 1, 3, 3), dilation=0),
                                    ["conv2d_transpose", "dilation", "(1, 2, 3, 3)"]),
    "max_pool2d stride 0": (lambda: F.max_pool2d(T(1, 1, 4, 4), 2, 0), ["max_pool2d", "stride", "(1, 1, 4, 4)"]),
    "max_pool2d 'same' stride 0": (lambda: F.max_pool2d(T(1, 1, 4, 4), 2, 0, padding="same"),
                                   ["max_pool2d", "stride", "(1, 1, 4, 4)"]),
    "avg_pool2d stride 0": (lambda: F.avg_pool2d(T(1, 1, 4, 4), 2, (1, 0)), ["avg_pool2d", "stride", "(1, 1, 4, 4)"]),
    "max_pool1d stride 0": (lambda: F.max_pool1d(T(1, 1, 4), 2, 0), ["max_pool1d", "stride", "(1, 1, 4)"]),
    # channels not divisible by groups
    "conv2d groups": (lambda: F.conv2d(T(1, 3, 5, 5), T(2, 1, 3, 3), groups=2),
                      ["conv2d", "groups=2", "(1, 3, 5, 5)", "(2, 1, 3, 3)"]),
    "conv1d groups": (lambda: F.conv1d(T(1, 3, 5), T(2, 1, 3), groups=2), ["conv1d", "groups=2", "(1, 3, 5)"]),
    "conv2d_transpose groups": (lambda: F.conv2d_transpose(T(1, 3, 3, 3), T(3, 1, 3, 3), groups=2),
                                ["conv2d_transpose", "groups=2", "(1, 3, 3, 3)"]),
    "group_norm groups": (lambda: F.group_norm(T(2, 4, 3, 3), 3), ["group_norm", "3", "(2, 4, 3, 3)"]),
    # the wrong rank
    "conv2d rank 3": (lambda: F.conv2d(T(3, 5, 5), T(2, 3, 3, 3)), ["conv2d", "4-D", "(3, 5, 5)"]),
    "conv1d rank 2": (lambda: F.conv1d(T(3, 5), T(2, 3, 3)), ["conv1d", "3-D", "(3, 5)"]),
    "conv2d_transpose rank 3": (lambda: F.conv2d_transpose(T(2, 3, 3), T(2, 1, 3, 3)),
                                ["conv2d_transpose", "4-D", "(2, 3, 3)"]),
    "max_pool2d rank 3": (lambda: F.max_pool2d(T(1, 4, 4), 2), ["max_pool2d", "4-D", "(1, 4, 4)"]),
    "avg_pool2d rank 2": (lambda: F.avg_pool2d(T(4, 4), 2), ["avg_pool2d", "4-D", "(4, 4)"]),
    "max_pool1d rank 4": (lambda: F.max_pool1d(T(1, 1, 4, 4), 2), ["max_pool1d", "3-D", "(1, 1, 4, 4)"]),
    "global_max_pool2d rank 3": (lambda: F.global_max_pool2d(T(2, 3, 3)), ["global_max_pool2d", "(2, 3, 3)"]),
    "global_avg_pool2d rank 3": (lambda: F.global_avg_pool2d(T(2, 3, 3)), ["global_avg_pool2d", "(2, 3, 3)"]),
    "upsample2d rank 3": (lambda: F.upsample2d(T(2, 3, 3), scale_factor=2), ["upsample2d", "(2, 3, 3)"]),
    "pad2d rank 3": (lambda: F.pad2d(T(2, 3, 3), (1, 1, 1, 1)), ["pad2d", "(2, 3, 3)"]),
}


@pytest.mark.parametrize("case", sorted(OPS))
def test_op_bad_input_is_a_value_error_naming_the_op_and_shapes(case):
    fn, words = OPS[case]
    raises(ValueError, fn, *words)


# ---------------------------------------------------------------- layer arguments
@pytest.mark.parametrize("make, words", [
    (lambda: L.Conv2D(2, 3, strides=0), ["Conv2D", "strides", "0"]),
    (lambda: L.Conv2D(2, 3, dilation_rate=(1, -1)), ["Conv2D", "dilation_rate", "(1, -1)"]),
    (lambda: L.Conv2DTranspose(2, 3, strides=(0, 1)), ["Conv2DTranspose", "strides"]),
    (lambda: L.Conv2DTranspose(2, 3, dilation_rate=0), ["Conv2DTranspose", "dilation_rate"]),
    (lambda: L.DepthwiseConv2D(3, strides=-2), ["DepthwiseConv2D", "strides", "-2"]),
    (lambda: L.DepthwiseConv2D(3, dilation_rate=0), ["DepthwiseConv2D", "dilation_rate"]),
    (lambda: L.SeparableConv2D(2, 3, strides=0), ["SeparableConv2D", "strides"]),
    (lambda: L.SeparableConv2D(2, 3, dilation_rate=0), ["SeparableConv2D", "dilation_rate"]),
    (lambda: L.Conv1D(2, 3, strides=0, data_format="channels_first"), ["Conv1D", "strides"]),
    (lambda: L.Conv1D(2, 3, padding="causal", dilation_rate=0, data_format="channels_first"), ["Conv1D", "dilation_rate"]),
    (lambda: L.MaxPooling2D(2, strides=0), ["MaxPooling2D", "strides"]),
    (lambda: L.AveragePooling2D(2, strides=(1, 0)), ["AveragePooling2D", "strides", "(1, 0)"]),
    (lambda: L.MaxPooling1D(2, strides=0, data_format="channels_first"), ["MaxPooling1D", "strides"]),
    (lambda: L.MaxPooling2D(0), ["MaxPooling2D", "pool_size"]),
    (lambda: L.Conv2D(3, 3, groups=2), ["Conv2D", "filters (3)", "groups (2)"]),
    (lambda: L.Conv1D(3, 3, groups=2, data_format="channels_first"), ["Conv1D", "filters (3)", "groups (2)"]),
    (lambda: L.GroupNormalization(0), ["GroupNormalization", "groups"]),
])
def test_layer_argument_errors_name_the_layer(make, words):
    raises(ValueError, make, *words)


# ---------------------------------------------------------------- a layer's first call (build)
BUILD = {
    "Conv2D kernel > input": (lambda: L.Conv2D(2, 5, name="c"), (1, 3, 3), ["c:", "(5, 5)", "(3, 3)"]),
    "Conv2D dilated kernel > input": (lambda: L.Conv2D(2, 3, dilation_rate=2, name="c"), (1, 4, 4),
                                      ["c:", "(3, 3)", "(5, 5)", "(4, 4)"]),
    "DepthwiseConv2D kernel > input": (lambda: L.DepthwiseConv2D(5, name="c"), (1, 3, 3), ["c:", "(5, 5)", "(3, 3)"]),
    "SeparableConv2D kernel > input": (lambda: L.SeparableConv2D(2, 5, name="c"), (1, 3, 3),
                                       ["c:", "(5, 5)", "(3, 3)"]),
    "Conv1D kernel > input": (lambda: L.Conv1D(2, 5, name="c", data_format="channels_first"), (1, 3), ["c:", "5", "(3)"]),
    "MaxPooling2D pool > input": (lambda: L.MaxPooling2D(3, name="c"), (1, 2, 2), ["c:", "(3, 3)", "(2, 2)"]),
    "AveragePooling2D pool > input": (lambda: L.AveragePooling2D(3, name="c"), (1, 2, 2),
                                      ["c:", "(3, 3)", "(2, 2)"]),
    "MaxPooling1D pool > input": (lambda: L.MaxPooling1D(3, name="c", data_format="channels_first"), (1, 2), ["c:", "3", "(2)"]),
    "Cropping2D crops everything": (lambda: L.Cropping2D(2, name="c"), (1, 3, 3), ["c:", "(2, 2, 2, 2)", "(3, 3)"]),
    "Conv2D groups": (lambda: L.Conv2D(4, 3, groups=2, name="c"), (3, 5, 5), ["c:", "3", "groups (2)", "(3, 5, 5)"]),
    "Conv1D groups": (lambda: L.Conv1D(4, 3, groups=2, name="c", data_format="channels_first"), (3, 5), ["c:", "3", "groups (2)", "(3, 5)"]),
    "GroupNormalization groups": (lambda: L.GroupNormalization(3, name="c"), (4, 3, 3), ["c:", "groups=3", "4"]),
    "Conv2D rank": (lambda: L.Conv2D(2, 3, name="c"), (10,), ["c:", "Conv2D", "(10,)"]),
    "Conv2DTranspose rank": (lambda: L.Conv2DTranspose(2, 3, name="c"), (3, 3), ["c:", "Conv2DTranspose", "(3, 3)"]),
    "Conv1D rank": (lambda: L.Conv1D(2, 3, name="c", data_format="channels_first"), (3, 5, 5), ["c:", "Conv1D", "(3, 5, 5)"]),
    "MaxPooling2D rank": (lambda: L.MaxPooling2D(name="c"), (4, 4), ["c:", "MaxPooling2D", "(4, 4)"]),
    "GlobalAveragePooling2D rank": (lambda: L.GlobalAveragePooling2D(name="c"), (4, 4),
                                    ["c:", "GlobalAveragePooling2D", "(4, 4)"]),
    "UpSampling2D rank": (lambda: L.UpSampling2D(name="c"), (4, 4), ["c:", "UpSampling2D", "(4, 4)"]),
    "ZeroPadding2D rank": (lambda: L.ZeroPadding2D(name="c"), (4, 4), ["c:", "ZeroPadding2D", "(4, 4)"]),
    "MaxPooling1D rank": (lambda: L.MaxPooling1D(name="c", data_format="channels_first"), (1, 4, 4), ["c:", "MaxPooling1D", "(1, 4, 4)"]),
    "Conv2D NHWC": (lambda: L.Conv2D(2, 3, name="c"), (28, 28, 1),
                    ["c:", "(28, 28, 1)", "channels_last", "x.transpose(0, 3, 1, 2)"]),
    "MaxPooling2D NHWC": (lambda: L.MaxPooling2D(name="c"), (9, 9, 3), ["c:", "(9, 9, 3)", "channels_last"]),
}


@pytest.mark.parametrize("case", sorted(BUILD))
def test_layer_build_errors_name_the_layer_and_shapes_and_create_no_weights(case):
    make, sample, words = BUILD[case]
    layer = make()
    raises(ValueError, lambda: layer(T(2, *sample)), *words)
    assert not layer.built and layer.weights == []
    if not case.startswith("GroupNormalization"):  # its output shape is its input's whatever the groups (Keras's too)
        raises(ValueError, lambda: layer.compute_output_shape(sample), *words)


# ---------------------------------------------------------------- a built layer's later calls
# Conv-family layers take a new spatial size once built (Keras's input_spec): a size the kernel,
# pool or cropping no longer fits must still be refused by the layer, with its name.
AFTER = {
    "Conv2D": (lambda: L.Conv2D(2, 3, name="c"), (1, 8, 8), (1, 2, 2), ["c:", "(3, 3)", "(2, 2)"]),
    "Conv2D dilated": (lambda: L.Conv2D(2, 3, dilation_rate=2, name="c"), (1, 8, 8), (1, 4, 8),
                       ["c:", "(5, 5)", "(4, 8)"]),
    "DepthwiseConv2D": (lambda: L.DepthwiseConv2D(3, name="c"), (2, 8, 8), (2, 2, 5), ["c:", "(3, 3)", "(2, 5)"]),
    "SeparableConv2D": (lambda: L.SeparableConv2D(2, 3, name="c"), (2, 8, 8), (2, 5, 2), ["c:", "(5, 2)"]),
    "Conv1D": (lambda: L.Conv1D(2, 5, name="c", data_format="channels_first"), (1, 8), (1, 3), ["c:", "5", "(3)"]),
    "MaxPooling2D": (lambda: L.MaxPooling2D(3, name="c"), (1, 8, 8), (1, 2, 2), ["c:", "MaxPooling2D", "(2, 2)"]),
    "AveragePooling2D": (lambda: L.AveragePooling2D(3, name="c"), (1, 8, 8), (1, 8, 2),
                         ["c:", "AveragePooling2D", "(8, 2)"]),
    "MaxPooling1D": (lambda: L.MaxPooling1D(4, name="c", data_format="channels_first"), (1, 8), (1, 3), ["c:", "MaxPooling1D", "(3)"]),
    # before the fix, a slice that left nothing: a (2, 1, 0, 0) output and no error
    "Cropping2D": (lambda: L.Cropping2D(2, name="c"), (1, 8, 8), (1, 3, 3), ["c:", "Cropping2D", "(3, 3)"]),
    # the channels-last twin of a built NCHW layer: say so, and how to fix it
    "Conv2D NHWC": (lambda: L.Conv2D(2, 3, name="c"), (1, 8, 8), (8, 8, 1),
                    ["c:", "(1, 8, 8)", "(8, 8, 1)", "channels_last", "x.transpose(0, 3, 1, 2)"]),
    "Conv2D channels_last given NCHW": (lambda: L.Conv2D(2, 3, data_format="channels_last", name="c"), (8, 8, 3),
                                        (3, 8, 8), ["c:", "(8, 8, 3)", "(3, 8, 8)", "channels_first",
                                                    "x.transpose(0, 2, 3, 1)"]),
    "Conv2D rank": (lambda: L.Conv2D(2, 3, name="c"), (1, 8, 8), (1, 8), ["c:", "(1, 8, 8)", "(1, 8)"]),
    # the class named is the layer's own, not the shared base class
    "GlobalMaxPooling2D channels": (lambda: L.GlobalMaxPooling2D(name="c"), (3, 4, 4), (4, 4, 4),
                                    ["c: GlobalMaxPooling2D", "(3, 4, 4)", "(4, 4, 4)"]),
    "MaxPooling2D channels": (lambda: L.MaxPooling2D(name="c"), (3, 4, 4), (2, 4, 4),
                              ["c: MaxPooling2D", "(3, 4, 4)", "(2, 4, 4)"]),
}


@pytest.mark.parametrize("case", sorted(AFTER))
def test_built_layer_refuses_input_it_cannot_take_naming_itself(case):
    make, good, bad, words = AFTER[case]
    layer = make()
    layer(T(2, *good))
    before = layer.get_weights()
    raises(ValueError, lambda: layer(T(2, *bad)), *words)
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_built_conv_still_takes_a_new_size_that_fits():
    layer = L.Conv2D(2, 3)
    layer(T(2, 1, 8, 8))
    assert tuple(layer(T(2, 1, 5, 11)).shape) == (2, 2, 3, 9)  # Keras's input_spec: only rank and channels fixed
    crop = L.Cropping2D(1)
    crop(T(1, 1, 8, 8))
    assert tuple(crop(T(1, 1, 3, 4)).shape) == (1, 1, 1, 2)


# ---------------------------------------------------------------- models: nothing changes
def _cnn():
    return Sequential([L.Input(shape=(1, 8, 8)), L.Conv2D(2, 3, activation="relu"), L.BatchNormalization(),
                       L.MaxPooling2D(), L.Flatten(), L.Dense(2)])


def _trained():
    model = _cnn()
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(1)
    model.fit(rng.random((8, 1, 8, 8)).astype(np.float32), rng.random((8, 2)).astype(np.float32),
              batch_size=4, epochs=1, verbose=0)
    return model


def _snapshot(model):
    state = model.optimizer.get_state()
    return [w.copy() for w in model.get_weights()], state["iterations"], [s.copy() for s in state["slots"]]


def _assert_unchanged(model, snap):
    weights, iterations, slots = snap
    after = _snapshot(model)
    assert len(after[0]) == len(weights)
    for a, b in zip(weights, after[0]):  # includes BatchNormalization's moving statistics
        np.testing.assert_array_equal(a, b)
    assert after[1] == iterations
    assert len(after[2]) == len(slots) and len(slots) > 0
    for a, b in zip(slots, after[2]):
        np.testing.assert_array_equal(a, b)


BAD_X = {
    "NHWC": ((4, 8, 8, 1), ["(1, 8, 8)", "(8, 8, 1)"]),
    "wrong rank": ((4, 64), ["(1, 8, 8)", "(64,)"]),
    "kernel larger than the image": ((4, 1, 2, 2), ["(1, 8, 8)", "(1, 2, 2)"]),
    "wrong channels": ((4, 3, 8, 8), ["(1, 8, 8)", "(3, 8, 8)"]),
}


@pytest.mark.parametrize("case", sorted(BAD_X))
@pytest.mark.parametrize("entry", ["fit", "train_on_batch", "evaluate", "predict", "call"])
def test_model_refuses_bad_x_before_any_weight_or_optimizer_state_changes(case, entry):
    model = _trained()
    snap = _snapshot(model)
    shape, words = BAD_X[case]
    x = np.random.default_rng(2).random(shape).astype(np.float32)
    y = np.zeros((shape[0], 2), np.float32)
    run = {"fit": lambda: model.fit(x, y, epochs=1, verbose=0),
           "train_on_batch": lambda: model.train_on_batch(x, y),
           "evaluate": lambda: model.evaluate(x, y, verbose=0),
           "predict": lambda: model.predict(x, verbose=0),
           "call": lambda: model(x, training=True)}[entry]
    raises(ValueError, run, *words)
    _assert_unchanged(model, snap)
    # and the model still trains on good data afterwards
    model.fit(np.random.default_rng(3).random((4, 1, 8, 8)).astype(np.float32), y, epochs=1, verbose=0)


def test_model_refuses_bad_y_after_the_forward_pass_and_restores_the_moving_statistics():
    # y of the wrong width fails in the loss, after BatchNormalization's forward pass in training
    # has updated its moving statistics: the step must put them back
    model = _trained()
    snap = _snapshot(model)
    x = np.random.default_rng(2).random((4, 1, 8, 8)).astype(np.float32)
    with pytest.raises(ValueError):
        model.fit(x, np.zeros((4, 3), np.float32), epochs=1, verbose=0)
    _assert_unchanged(model, snap)


def test_nhwc_to_a_built_nchw_model_says_which_axis_looks_like_channels():
    model = _trained()
    x = np.random.default_rng(2).random((4, 8, 8, 1)).astype(np.float32)
    raises(ValueError, lambda: model.predict(x, verbose=0), "channels_last", "x.transpose(0, 3, 1, 2)")


def test_a_failed_first_build_does_not_fix_the_models_input_shape():
    model = Sequential([L.Conv2D(2, 3), L.Flatten(), L.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    y = rng.random((4, 2)).astype(np.float32)
    raises(ValueError, lambda: model.fit(rng.random((4, 8, 8, 1)).astype(np.float32), y, verbose=0),
           "channels_last", "(8, 8, 1)")
    assert all(not l.weights for l in model.layers)
    model.fit(rng.random((4, 1, 8, 8)).astype(np.float32), y, verbose=0)  # the fixed data trains
    assert model.layers[0].input_shape == (None, 1, 8, 8)


def test_unbuilt_model_given_nhwc_names_the_layer_axis_and_fix_and_creates_no_weights():
    model = Sequential([L.Conv2D(2, 3, name="first_conv"), L.Flatten(), L.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    raises(ValueError, lambda: model.fit(x, np.zeros((4, 2), np.float32), verbose=0),
           "first_conv", "(28, 28, 1)", "channels_last", "x.transpose(0, 3, 1, 2)")
    assert all(not l.weights for l in model.layers)


@pytest.mark.parametrize("layers, words", [
    # the first conv leaves 6x6, the pool 3x3, and the second conv's 5x5 kernel does not fit
    (lambda: [L.Conv2D(2, 3), L.MaxPooling2D(), L.Conv2D(2, 5, name="too_big")], ["too_big", "(5, 5)", "(3, 3)"]),
    (lambda: [L.Conv2D(3, 3), L.Conv2D(4, 3, groups=2, name="grouped")], ["grouped", "3", "groups (2)"]),
    (lambda: [L.Flatten(), L.Conv2D(2, 3, name="flat_conv")], ["flat_conv", "(64,)"]),
])
def test_model_build_errors_name_the_layer_and_shapes(layers, words):
    raises(ValueError, lambda: Sequential([L.Input(shape=(1, 8, 8))] + layers()), *words)


def test_a_refused_first_shape_leaves_the_layer_unbuilt_so_good_data_builds_it():
    # MaxPooling2D's build succeeds and only its output shape finds the pool too large: before the
    # fix the layer stayed marked built with no input shape, so it never checked a shape again
    pool = L.MaxPooling2D(3, name="pool")
    raises(ValueError, lambda: pool(T(2, 1, 2, 2)), "pool:", "(3, 3)", "(2, 2)")
    assert not pool.built and pool.input_shape is None
    assert tuple(pool(T(2, 1, 6, 6)).shape) == (2, 1, 2, 2)
    assert pool.built and pool.input_shape == (None, 1, 6, 6) and pool.output_shape == (None, 1, 2, 2)
    raises(ValueError, lambda: pool(T(2, 2, 6, 6)), "pool:", "(1, 6, 6)", "(2, 6, 6)")


def test_a_built_layer_does_not_guess_the_layout_again():
    # Its rank and channels match those it was built for, so the channels axis is known: feature
    # maps of 8 channels that happen to be 3 wide are not "channels_last images"
    conv = L.Conv2D(2, 3)
    conv(T(1, 8, 16, 16))
    assert tuple(conv(T(1, 8, 10, 3)).shape) == (1, 2, 8, 1)
    last = L.MaxPooling2D(data_format="channels_last")
    last(T(1, 16, 16, 8))
    assert tuple(last(T(1, 3, 10, 8)).shape) == (1, 1, 5, 8)
