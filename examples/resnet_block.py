"""Course topic: skip connections and normalisation against vanishing gradients (deck 004).

Three CNNs of the same depth (a stem, then --blocks blocks of two 3x3 convolutions, then global
average pooling and a softmax), trained the same way on the same digits:

  plain      conv - relu - conv - relu in every block: the signal and the gradient pass through
             every layer in turn;
  residual   y = relu(x + BN(conv(relu(BN(conv(x)))))): each block adds a correction to its input,
             so the identity path carries the gradient straight to the first layers;
  (--with-bn-only adds "plain + BN": BatchNormalization without the skip, to tell the two apart).

The residual block is a few lines of the functional API (``Input``, ``Add``, ``Model``). The
script prints, per epoch, each network's training loss, and before training the size of the
gradient that reaches the first convolution (the vanishing gradient, measured), then the test
accuracies; it draws the loss curves (matplotlib, optional):

    python examples/resnet_block.py [--blocks 8] [--train-size 6000] [--epochs 3] [--out figures/resnet.png]
"""
import argparse

import numpy as np

import pydl
from pydl import Input, Model
from pydl.datasets import load_mnist_or_digits
from pydl.layers import (Activation, Add, BatchNormalization, Conv2D, Dense, GlobalAveragePooling2D,
                         MaxPooling2D)
from pydl.utils.plots import get_pyplot, save_figure

FILTERS = 16
# Keras's default momentum 0.99 needs a few hundred steps before the moving statistics (used at
# test time) forget their initial values; a short run like this one uses 0.9.
BN_MOMENTUM = 0.9


def residual_block(x, name):
    """x + F(x): two 3x3 convolutions with BatchNormalization; the sum goes through a ReLU."""
    h = Conv2D(FILTERS, 3, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    h = Activation("relu", name=f"{name}_relu1")(BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn1")(h))
    h = Conv2D(FILTERS, 3, padding="same", use_bias=False, name=f"{name}_conv2")(h)
    h = BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn2")(h)
    return Activation("relu", name=f"{name}_out")(Add(name=f"{name}_add")([x, h]))


def plain_block(x, name, bn=False):
    """The same two convolutions without the skip (and, unless ``bn``, without normalisation)."""
    for i in (1, 2):
        x = Conv2D(FILTERS, 3, padding="same", use_bias=bn is False, name=f"{name}_conv{i}")(x)
        if bn:
            x = BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn{i}")(x)
        x = Activation("relu", name=f"{name}_relu{i}")(x)
    return x


def build(kind, input_shape, blocks):
    inputs = Input(input_shape, name="image")
    x = Conv2D(FILTERS, 3, padding="same", activation="relu", name="stem")(inputs)
    if input_shape[1] >= 16:
        x = MaxPooling2D(2, name="pool")(x)
    for b in range(blocks):
        x = residual_block(x, f"block{b}") if kind == "residual" else plain_block(x, f"block{b}", bn=kind != "plain")
    x = GlobalAveragePooling2D(name="gap")(x)
    outputs = Dense(10, activation="softmax", name="classes")(x)
    return Model(inputs, outputs, name=kind.replace(" + ", "_"))


def first_layer_gradient(model, x, y):
    """|d loss / d stem kernel| (the gradient's norm at the first convolution) for one batch,
    with the model's own loss, in training mode."""
    stem = model.get_layer("stem").weights[0]
    stem.grad = None
    probs = model(pydl.tensor(x), training=True)
    loss = pydl.losses.categorical_crossentropy(pydl.tensor(y), probs).mean()
    loss.backward()
    g = float(np.sqrt((stem.grad.numpy().astype(np.float64) ** 2).sum()))
    stem.grad = None
    return g


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=8, help="blocks of two convolutions (depth 2 * blocks + 2)")
    parser.add_argument("--train-size", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--with-bn-only", action="store_true", help="also train the plain net with BatchNormalization")
    parser.add_argument("--out", default="figures/resnet.png")
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    name, x_train, y_train, x_test, y_test = load_mnist_or_digits(images=True)
    x_train, y_train = x_train[:args.train_size], y_train[:args.train_size]
    depth = 2 * args.blocks + 2
    print(f"{name}: {len(x_train)} training images; {depth} weight layers ({args.blocks} blocks of 2 convolutions)")

    kinds = ["plain", "plain + BN", "residual"] if args.with_bn_only else ["plain", "residual"]
    histories, results = {}, {}
    for kind in kinds:
        pydl.manual_seed(0)
        model = build(kind, x_train.shape[1:], args.blocks)
        model.compile(optimizer=pydl.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
        grad = first_layer_gradient(model, x_train[:64], y_train[:64])
        print(f"{kind}: {model.count_params():,} parameters; gradient norm at the first convolution before "
              f"training: {grad:.2e}")
        h = model.fit(x_train, y_train, batch_size=64, epochs=args.epochs, verbose=2)
        histories[kind] = h.history["loss"]
        results[kind] = (grad, model.evaluate(x_test, y_test, verbose=0)[1])

    print()
    print("| network | first-layer gradient | " + " | ".join(f"loss epoch {e + 1}" for e in range(args.epochs))
          + " | test accuracy |")
    print("|---" * (args.epochs + 3) + "|")
    for kind in kinds:
        losses = " | ".join(f"{v:.4f}" for v in histories[kind])
        print(f"| {kind} | {results[kind][0]:.2e} | {losses} | {results[kind][1]:.4f} |")

    plt = get_pyplot(args.show)
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    for kind in kinds:
        ax.plot(range(1, args.epochs + 1), histories[kind], marker="o", label=kind)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_yscale("log")
    ax.set_title(f"{depth} weight layers: plain vs residual")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, args.out)
    if args.show:
        plt.show()


if __name__ == "__main__":
    main()
