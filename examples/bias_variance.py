"""Course topic: bias and variance (deck 002), read from learning curves.

Two networks on the same digits, each as a scikit-learn estimator (``pydl.wrappers``) given to
``pydl.evaluation.learning_curve``: training and validation error as the training set grows.

  underfitting  784 - 2 - 10: too small for the task. Training and validation error stay high
                and close together: high bias (more data does not help; a bigger model does).
  overfitting   784 - 512 - 512 - 10 trained long without regularisation: training error near 0,
                validation error well above it: high variance (more data, regularisation,
                dropout or early stopping help).

Each curve is printed as a table and labelled by ``pydl.evaluation.diagnose``, and both are drawn
(matplotlib, optional):

    python examples/bias_variance.py [--subset 2000] [--out figures/bias_variance.png]
"""
import argparse

from pydl import evaluation as ev
from pydl.datasets import load_mnist_or_digits
from pydl.layers import Dense
from pydl.models import Sequential
from pydl.utils.plots import get_pyplot, save_figure
from pydl.wrappers import PydlClassifier


def mlp(n_features_in_, n_classes_, hidden=(64,)):
    layers = [Dense(hidden[0], activation="relu", input_shape=(n_features_in_,))]
    layers += [Dense(u, activation="relu") for u in hidden[1:]]
    return Sequential(layers + [Dense(n_classes_, activation="softmax")])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", type=int, default=2000)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--out", default="figures/bias_variance.png")
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    name, x_train, y_train, _, _ = load_mnist_or_digits()
    x, y = x_train[:args.subset], y_train[:args.subset].argmax(1)
    print(f"{name}: {len(x)} digits, {args.folds}-fold learning curves")
    nets = {
        "underfitting (784-2-10)": PydlClassifier(mlp, model__hidden=(2,), optimizer="adam", epochs=30,
                                                  batch_size=64, verbose=0, random_state=0),
        "overfitting (784-512-512-10)": PydlClassifier(mlp, model__hidden=(512, 512), optimizer="adam", epochs=60,
                                                       batch_size=32, verbose=0, random_state=0),
    }
    curves = {}
    for label, est in nets.items():
        curve = ev.learning_curve(est, x, y, train_sizes=(0.2, 0.4, 0.7, 1.0), cv=args.folds, tolerance=0.05)
        curves[label] = curve
        print(f"\n{label}: {curve.diagnosis}")
        print(curve.table())

    plt = get_pyplot(args.show)
    if plt is None:
        return
    fig, axes = plt.subplots(1, len(curves), figsize=(5.5 * len(curves), 4), sharey=True)
    for ax, (label, curve) in zip(axes, curves.items()):
        curve.plot(ax=ax, title=label)
    fig.tight_layout()
    save_figure(fig, args.out)
    if args.show:
        plt.show()


if __name__ == "__main__":
    main()
