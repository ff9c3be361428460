"""Course topic: comparing a neural network with other machine-learning models (deck 002).

The same digits, the same K folds for every model (``pydl.evaluation.compare_models``): a pydl
MLP (as ``pydl.wrappers.PydlClassifier``) beside scikit-learn's logistic regression, random
forest and k-nearest neighbours. Comparing on the same folds is what makes the scores
comparable: a different split would move each score by about its standard deviation.

    python examples/ann_vs_ml.py [--subset 3000] [--folds 5]
"""
import argparse

from pydl import evaluation as ev
from pydl.datasets import load_mnist_or_digits
from pydl.layers import Dense
from pydl.models import Sequential
from pydl.wrappers import PydlClassifier


def mlp(n_features_in_, n_classes_):
    return Sequential([Dense(128, activation="relu", input_shape=(n_features_in_,)),
                       Dense(n_classes_, activation="softmax")])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", type=int, default=3000)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier

    name, x_train, y_train, _, _ = load_mnist_or_digits()
    x, y = x_train[:args.subset], y_train[:args.subset].argmax(1)
    print(f"{name}: {len(x)} digits, the same {args.folds} stratified folds for every model")
    models = {
        "pydl MLP (784-128-10, Adam, 10 epochs)": PydlClassifier(mlp, optimizer="adam", epochs=10, batch_size=64,
                                                                 verbose=0, random_state=0),
        "logistic regression": LogisticRegression(max_iter=300),
        "random forest (200 trees)": RandomForestClassifier(n_estimators=200, random_state=0),
        "k-nearest neighbours (k=3)": KNeighborsClassifier(n_neighbors=3),
    }
    scores = ev.compare_models(models, x, y, cv=args.folds)
    print(ev.comparison_table(scores))


if __name__ == "__main__":
    main()
