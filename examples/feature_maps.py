"""Course topic: what a CNN sees (deck 002's "feature maps after the first layer").

Trains the examples/mnist_cnn.py network briefly (or loads one saved with
``python examples/mnist_cnn.py --save cnn.pydl``), then looks inside it: the 32 learned 3x3
filters of the first layer, and one test digit's feature maps after every convolution and
pooling layer, getting smaller and more abstract. It prints each layer's output shape and how
many of its ReLU units fire on that digit, and draws the pictures (matplotlib, optional):

    python examples/feature_maps.py [--model cnn.pydl] [--epochs 1] [--subset 12000] [--out figures]
"""
import argparse
import os

import numpy as np

import pydl
from pydl.datasets import load_mnist_or_digits
from pydl.utils import layer_outputs
from pydl.utils.plots import get_pyplot, plot_feature_maps, plot_filters, save_figure


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a model saved by examples/mnist_cnn.py --save")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--subset", type=int, default=12000, help="training images when training here")
    parser.add_argument("--out", default="figures")
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    pydl.manual_seed(0)
    name, x_train, y_train, x_test, y_test = load_mnist_or_digits(images=True)
    if args.model:
        model = pydl.saving.load_model(args.model)
        print(f"loaded {args.model}")
    else:
        import importlib.util
        spec = importlib.util.spec_from_file_location("mnist_cnn", os.path.join(os.path.dirname(__file__),
                                                                                "mnist_cnn.py"))
        mnist_cnn = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mnist_cnn)
        model = mnist_cnn.build(x_train.shape[1:], "valid" if x_train.shape[2] >= 28 else "same")
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        model.fit(x_train[:args.subset], y_train[:args.subset], batch_size=64, epochs=args.epochs, verbose=2)
    _, acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"{name} test accuracy {acc:.4f}")

    image, label = x_test[0], int(y_test[0].argmax())
    probs = model.predict(image[None], verbose=0)[0]
    print(f"test image 0: a {label}, predicted {int(probs.argmax())} with probability {probs.max():.3f}")
    print(f"{'layer':<10}{'type':<14}{'output shape':<18}{'units > 0':>10}")
    for lname, layer, out in layer_outputs(model, image[None]):
        a = out.numpy()[0]
        print(f"{lname:<10}{type(layer).__name__:<14}{str(a.shape):<18}{(a > 0).mean():>10.1%}")
    conv1 = model.layers[0]
    w = conv1.get_weights()[0]
    print(f"{conv1.name}: {w.shape[0]} filters {w.shape[2]}x{w.shape[3]}, weights in [{w.min():.2f}, {w.max():.2f}]")

    plt = get_pyplot(args.show)
    if plt is None:
        return
    save_figure(plot_filters(conv1, plt=plt), os.path.join(args.out, "cnn_filters.png"))
    save_figure(plot_feature_maps(model, image, plt=plt), os.path.join(args.out, "cnn_feature_maps.png"))
    if args.show:
        plt.show()


if __name__ == "__main__":
    main()
