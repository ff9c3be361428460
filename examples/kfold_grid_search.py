"""Course topic: K-fold cross-validation, grid search and random search (deck 002).

The MNIST MLP (784 - units - 10, ReLU, dropout, Adam) as a scikit-learn estimator
(``pydl.wrappers.PydlClassifier``), on a subset of the training digits:

1. 10-fold cross-validation: ten train/validate splits, the accuracy of each and their mean and
   spread (how much a single split's score can be trusted);
2. a grid search over units x learning rate x dropout (every combination, 3-fold CV each);
3. a random search over the same space with the learning rate drawn log-uniformly (as many
   trials as you choose: the deck's point is that random trials cover each axis better);
then the best setting retrained on the whole subset and scored on the test digits.

    python examples/kfold_grid_search.py [--subset 3000] [--epochs 5] [--folds 10] [--trials 6]
"""
import argparse

import numpy as np

from pydl.datasets import load_mnist_or_digits
from pydl.layers import Dense, Dropout
from pydl.models import Sequential
from pydl.wrappers import PydlClassifier

try:
    from scipy.stats import loguniform
except ImportError:  # scipy comes with scikit-learn; keep a fallback anyway
    loguniform = None


def build(n_features_in_, n_classes_, units=64, dropout=0.0):
    layers = [Dense(units, activation="relu", input_shape=(n_features_in_,))]
    if dropout:
        layers.append(Dropout(dropout))
    layers.append(Dense(n_classes_, activation="softmax"))
    return Sequential(layers)


def results_table(search, keys):
    r = search.cv_results_
    rows = sorted(range(len(r["params"])), key=lambda i: r["rank_test_score"][i])
    print("| rank | " + " | ".join(keys) + " | mean accuracy | std |")
    print("|---" * (len(keys) + 3) + "|")
    for i in rows:
        p = r["params"][i]
        vals = " | ".join(f"{p[k]:.4g}" if isinstance(p[k], float) else str(p[k]) for k in keys)
        print(f"| {r['rank_test_score'][i]} | {vals} | {r['mean_test_score'][i]:.4f} | {r['std_test_score'][i]:.4f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=6)
    args = parser.parse_args()
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, StratifiedKFold, cross_val_score

    name, x_train, y_train, x_test, y_test = load_mnist_or_digits()
    x, y = x_train[:args.subset], y_train[:args.subset].argmax(1)  # scikit-learn takes class labels
    print(f"{name}: {len(x)} training digits, {len(x_test)} test digits")
    clf = PydlClassifier(build, optimizer="adam", epochs=args.epochs, batch_size=64, verbose=0, random_state=0,
                         model__units=64, model__dropout=0.0, optimizer__learning_rate=1e-3)

    folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=0)
    scores = cross_val_score(clf, x, y, cv=folds)
    print(f"\n{args.folds}-fold cross-validation, 64 units: " + " ".join(f"{s:.3f}" for s in scores))
    print(f"mean accuracy {scores.mean():.4f}, standard deviation {scores.std():.4f} "
          f"(min {scores.min():.3f}, max {scores.max():.3f})")

    grid = {"model__units": [32, 128], "optimizer__learning_rate": [1e-3, 1e-2], "model__dropout": [0.0, 0.3]}
    cv3 = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    gs = GridSearchCV(clf, grid, cv=cv3).fit(x, y)
    print(f"\ngrid search ({len(gs.cv_results_['params'])} combinations x 3 folds):")
    results_table(gs, list(grid))

    space = {"model__units": [16, 32, 64, 128, 256],
             "optimizer__learning_rate": loguniform(1e-4, 3e-2) if loguniform else [1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
             "model__dropout": [0.0, 0.1, 0.2, 0.3, 0.5]}
    rs = RandomizedSearchCV(clf, space, n_iter=args.trials, cv=cv3, random_state=0).fit(x, y)
    print(f"\nrandom search ({args.trials} trials x 3 folds):")
    results_table(rs, list(space))

    best = gs if gs.best_score_ >= rs.best_score_ else rs
    which = "grid" if best is gs else "random"
    test_acc = best.best_estimator_.score(x_test, y_test.argmax(1))
    print(f"\nbest setting ({which} search): {best.best_params_}, cross-validated accuracy {best.best_score_:.4f}; "
          f"retrained on all {len(x)} digits: test accuracy {test_acc:.4f}")


if __name__ == "__main__":
    main()
