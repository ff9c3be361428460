"""Course topic: the confusion matrix under different costs, the ROC curve and AUC (deck 002).

A binary task from MNIST: "is this digit a 5?" (about 9% of the digits are). A small network
(784-64-1, sigmoid output) gives each test digit a score; then:

1. the ROC curve (true-positive rate against false-positive rate over every threshold), its AUC
   and the deck's reading of that value;
2. the confusion matrix at the usual threshold 0.5;
3. two cost settings: missing a 5 costs as much as a false alarm, and missing a 5 costs ten
   times as much (a screening test); for each, the threshold of least expected cost, chosen on
   validation digits held out from training (choosing it on the test digits would make the
   test cost look better than it will be), then its confusion matrix and cost on the test
   digits beside the cost at 0.5. Costs change the best threshold, not the network.

    python examples/roc_costs.py [--digit 5] [--epochs 3] [--out figures/roc_costs.png]
"""
import argparse

import numpy as np

import pydl
from pydl import evaluation as ev
from pydl.datasets import load_mnist_or_digits
from pydl.layers import Dense
from pydl.models import Sequential
from pydl.utils import split_validation
from pydl.utils.plots import get_pyplot, save_figure

COSTS = {
    "equal costs": np.array([[0.0, 1.0], [1.0, 0.0]]),           # [[TN, FP], [FN, TP]]
    "a missed digit costs 10": np.array([[0.0, 1.0], [10.0, 0.0]]),
}


def show_confusion(title, cm):
    print(f"{title}\n                 predicted no  predicted yes\n"
          f"   truly no      {cm[0, 0]:>12d}  {cm[0, 1]:>13d}\n   truly yes     {cm[1, 0]:>12d}  {cm[1, 1]:>13d}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digit", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-size", type=int, default=None)
    parser.add_argument("--out", default="figures/roc_costs.png")
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    pydl.manual_seed(0)
    name, x_train, y_train, x_test, y_test = load_mnist_or_digits()
    if args.train_size:
        x_train, y_train = x_train[:args.train_size], y_train[:args.train_size]
    t_train = (y_train.argmax(1) == args.digit).astype(np.float32)[:, None]
    t_test = (y_test.argmax(1) == args.digit).astype(np.int64)
    (x_train, t_train), (x_val, t_val) = split_validation(x_train, t_train, 0.1, seed=0)
    print(f"{name}: is it a {args.digit}? {int(t_train.sum())} of {len(t_train)} training digits are, "
          f"{int(t_test.sum())} of {len(t_test)} test digits")

    model = Sequential([Dense(64, activation="relu", input_shape=(x_train.shape[1],)),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train, t_train, batch_size=128, epochs=args.epochs, verbose=2)
    score = model.predict(x_test, verbose=0)[:, 0]
    val_score = model.predict(x_val, verbose=0)[:, 0]
    v_val = t_val[:, 0].astype(np.int64)

    fpr, tpr, _ = ev.roc_curve(t_test, score)
    area = ev.roc_auc_score(t_test, score)
    print()
    ev.describe_auc(area)
    show_confusion("threshold 0.5:", ev.confusion_matrix(t_test, (score >= 0.5).astype(np.int64)))
    print()
    print("| costs [[TN, FP], [FN, TP]] | test cost at 0.5 | threshold (from validation) | test cost there "
          "| FN there | FP there |")
    print("|---|---|---|---|---|---|")
    best = {}
    for label, c in COSTS.items():
        at_half = ev.decision_cost(ev.confusion_matrix(t_test, (score >= 0.5).astype(np.int64), labels=[0, 1]), c)
        thr, _ = ev.best_threshold(v_val, val_score, c)
        cm = ev.confusion_matrix(t_test, (score >= thr).astype(np.int64), labels=[0, 1])
        cost = ev.decision_cost(cm, c)
        best[label] = (thr, cm)
        print(f"| {label} {c.astype(int).tolist()} | {at_half:.4f} | {thr:.4f} | {cost:.4f} | {cm[1, 0]} | "
              f"{cm[0, 1]} |")
    for label, (thr, cm) in best.items():
        print()
        show_confusion(f"{label}: threshold {thr:.4f} (chosen on the validation digits), test digits:", cm)

    plt = get_pyplot(args.show)
    if plt is None:
        return
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    axes[0].plot(fpr, tpr, label=f"network (AUC {area:.3f})")
    axes[0].plot([0, 1], [0, 1], "--", color="grey", label="random (AUC 0.5)")
    axes[0].set_xlabel("false-positive rate (1 - specificity)")
    axes[0].set_ylabel("true-positive rate (sensitivity)")
    axes[0].set_title(f"ROC: is it a {args.digit}?")
    axes[0].legend()
    for label, c in COSTS.items():
        thr, costs = ev.cost_curve(v_val, val_score, c)
        keep = np.isfinite(thr)
        axes[1].plot(thr[keep], costs[keep], label=label)
        axes[1].plot(*ev.best_threshold(v_val, val_score, c), "o")
    axes[1].set_xlabel("threshold")
    axes[1].set_ylabel("expected cost per digit")
    axes[1].set_title("validation cost against threshold")
    axes[1].legend()
    fig.tight_layout()
    save_figure(fig, args.out)
    if args.show:
        plt.show()


if __name__ == "__main__":
    main()
