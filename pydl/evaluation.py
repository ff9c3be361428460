"""Evaluating a classifier (deck 002): confusion matrices under costs, ROC and precision-recall
curves with their areas, and what an AUC means.

NumPy only; the figures go through ``pydl.utils.plots.get_pyplot`` (matplotlib is optional: the
plotting functions return None without it). The curves follow scikit-learn's definitions
(``sklearn.metrics``), so their numbers can be checked against it (tests/test_evaluation.py does).

Conventions
-----------
* A confusion matrix has one row per TRUE class and one column per PREDICTED class, in the order
  of ``labels`` (sorted labels by default), as scikit-learn's.
* A cost matrix has the same layout: ``cost[i, j]`` is what predicting class j costs when the
  truth is class i (the diagonal is usually 0; a negative entry is a gain). For two classes the
  order is (negative, positive): ``[[C_TN, C_FP], [C_FN, C_TP]]``.
* A binary decision at threshold t predicts the positive class when ``score >= t``; the first
  threshold is +inf (nothing predicted positive), as in ``roc_curve``.
* The expected cost of a decision rule is the mean cost per sample on the data given:
  ``sum(confusion * cost) / n``.
"""
import numbers
import warnings

import numpy as np

__all__ = ["UndefinedMetricWarning", "AUC_TABLE", "describe_auc", "confusion_matrix", "decision_cost",
           "cost_curve", "best_threshold", "roc_curve", "precision_recall_curve", "auc", "roc_auc_score",
           "average_precision_score", "roc_curve_ovr", "precision_recall_curve_ovr", "plot_roc",
           "plot_cost_curve", "diagnose", "LearningCurve", "learning_curve", "compare_models", "comparison_table"]


class UndefinedMetricWarning(RuntimeWarning):
    """A metric is undefined on the data given (all samples of one class): its value is NaN or a
    convention, as scikit-learn's warning of the same name says."""


# Deck 002's table of what an AUC means (the slide "AUC": 1 / between 0.5 and 1 / 0.5); the last
# row is not on the slide: it completes the scale the slide's source gives.
AUC_TABLE = (
    ("AUC = 1", "perfect classifier: every cut-off predicts correctly (in practice it does not exist)"),
    ("0.5 < AUC < 1", "better than random: with a well-chosen cut-off it has predictive value"),
    ("AUC = 0.5", "same as random guessing: the prediction carries no information"),
    ("AUC < 0.5", "worse than random (not on the slide): predicting the opposite would beat chance"),
)


def describe_auc(value, print_fn=print):
    """The deck's reading of an AUC, beside the value: ``'AUC = 0.870  (0.5 < AUC < 1: better
    than random: ...)'``. Printed with ``print_fn`` (None: only returned). AUC = 1 and 0.5 are
    matched within 1e-12, so a value computed as a ratio still reads as exact."""
    v = float(value)
    if np.isnan(v):  # roc_auc_score's value when y_true holds one class
        text = "AUC = nan  (undefined: y_true holds samples of one class only)"
        if print_fn is not None:
            print_fn(text)
        return text
    if v < 0.0 or v > 1.0:
        raise ValueError(f"describe_auc: an AUC lies in [0, 1], got {value!r}")
    if abs(v - 1.0) <= 1e-12:
        row = AUC_TABLE[0]
    elif abs(v - 0.5) <= 1e-12:
        row = AUC_TABLE[2]
    elif v > 0.5:
        row = AUC_TABLE[1]
    else:
        row = AUC_TABLE[3]
    text = f"AUC = {v:.3f}  ({row[0]}: {row[1]})"
    if print_fn is not None:
        print_fn(text)
    return text


# ---------------------------------------------------------------- input checks
def _labels_1d(fn, name, y):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{fn}: {name} must be 1-D class labels, got shape {y.shape}")
    if y.shape[0] == 0:
        raise ValueError(f"{fn}: {name} is empty")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{fn}: {name} contains NaN or infinity")
        if np.any(y != np.round(y)):
            raise ValueError(f"{fn}: {name} must be class labels (integers, strings or booleans), got "
                             f"continuous values such as {y[y != np.round(y)][0].item()!r}: scores go in y_score")
    elif y.dtype.kind not in "biuUSO":
        raise TypeError(f"{fn}: {name} must be class labels (integers, strings or booleans), got dtype {y.dtype}")
    return y


def _scores(fn, y_score, n, ndim=1):
    s = np.asarray(y_score)
    if s.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: y_score must be numbers (probabilities or scores), got dtype {s.dtype}")
    s = s.astype(np.float64)
    if ndim == 1 and s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if s.ndim != ndim:
        raise ValueError(f"{fn}: y_score must be {'1-D (one score per sample)' if ndim == 1 else '2-D (samples, classes)'}"
                         f", got shape {s.shape}")
    if s.shape[0] != n:
        raise ValueError(f"{fn}: y_true has {n} samples but y_score has {s.shape[0]} (shape {s.shape})")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{fn}: y_score contains NaN or infinity")
    return s


def _binary_targets(fn, y_true, pos_label):
    """y_true as booleans (True = the positive class), with scikit-learn's rule for pos_label:
    None is allowed only for labels in {0, 1} or {-1, 1} (then 1 is positive)."""
    y = _labels_1d(fn, "y_true", y_true)
    classes = np.unique(y)
    if len(classes) > 2:
        raise ValueError(f"{fn}: y_true has {len(classes)} classes {list(classes)[:6]}; this curve is binary "
                         "(for several classes use the one-vs-rest functions, e.g. roc_curve_ovr)")
    if pos_label is None:
        if y.dtype.kind == "b":
            return y.astype(bool)
        values = set(classes.tolist())
        if y.dtype.kind in "iuf" and (values <= {0, 1} or values <= {-1, 1}):
            return y == 1
        raise ValueError(f"{fn}: y_true takes the values {list(classes)}: give pos_label= (which of them is "
                         "positive); without it the labels must be {0, 1} or {-1, 1}")
    return y == pos_label


def _clf_counts(positive, score):
    """At each distinct score, from the highest down: the false and true positives of the rule
    ``score >= that score`` (fps, tps) and the score itself."""
    order = np.argsort(-score, kind="mergesort")
    s = score[order]
    pos = positive[order].astype(np.float64)
    ends = np.r_[np.nonzero(np.diff(s))[0], s.size - 1]  # the last row of each run of equal scores
    tps = np.cumsum(pos)[ends]
    fps = (ends + 1.0) - tps
    return fps, tps, s[ends]


# ---------------------------------------------------------------- confusion matrix and costs
def confusion_matrix(y_true, y_pred, labels=None, normalize=None):
    """Counts ``C[i, j]`` of samples of true class ``labels[i]`` predicted as ``labels[j]``.
    ``labels``: the classes and their order (default: the sorted union of y_true and y_pred);
    ``normalize``: None (counts), 'true' (rows sum to 1), 'pred' (columns), 'all' (the matrix)."""
    fn = "confusion_matrix"
    yt = _labels_1d(fn, "y_true", y_true)
    yp = _labels_1d(fn, "y_pred", y_pred)
    if yt.shape != yp.shape:
        raise ValueError(f"{fn}: y_true has {yt.shape[0]} samples but y_pred has {yp.shape[0]}")
    if labels is None:
        labels = np.unique(np.concatenate([yt, yp])) if yt.dtype.kind == yp.dtype.kind else None
        if labels is None:
            raise TypeError(f"{fn}: y_true ({yt.dtype}) and y_pred ({yp.dtype}) hold labels of different kinds")
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0 or len(np.unique(labels)) != labels.size:
        raise ValueError(f"{fn}: labels must be a non-empty list of distinct classes, got {labels!r}")
    if not np.isin(yt, labels).any():
        raise ValueError(f"{fn}: none of the labels {list(labels)} occurs in y_true")
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"{fn}: normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    k = labels.size
    index = {lab: i for i, lab in enumerate(labels.tolist())}
    cm = np.zeros((k, k), dtype=np.int64)
    for t, p in zip(yt.tolist(), yp.tolist()):
        if t in index and p in index:  # samples outside labels are left out, as scikit-learn does
            cm[index[t], index[p]] += 1
    if normalize is None:
        return cm
    with np.errstate(invalid="ignore", divide="ignore"):
        if normalize == "true":
            out = cm / cm.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            out = cm / cm.sum(axis=0, keepdims=True)
        else:
            out = cm / cm.sum()
    return np.nan_to_num(out)  # an empty row / column is 0, as in scikit-learn


def _cost_matrix(fn, cost_matrix, k):
    c = np.asarray(cost_matrix)
    if c.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: cost_matrix must hold numbers, got dtype {c.dtype}")
    if c.shape != (k, k):
        raise ValueError(f"{fn}: cost_matrix must be ({k}, {k}) (rows: true class, columns: predicted class) "
                         f"for {k} classes, got shape {c.shape}")
    c = c.astype(np.float64)
    if not np.all(np.isfinite(c)):
        raise ValueError(f"{fn}: cost_matrix contains NaN or infinity")
    return c


def decision_cost(confusion, cost_matrix):
    """The expected (mean per sample) cost of the decisions counted in ``confusion``:
    ``sum(confusion * cost_matrix) / confusion.sum()``."""
    fn = "decision_cost"
    cm = np.asarray(confusion)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.dtype.kind not in "biuf":
        raise ValueError(f"{fn}: confusion must be a square matrix of counts, got shape {cm.shape} ({cm.dtype})")
    if np.any(cm < 0) or cm.sum() == 0:
        raise ValueError(f"{fn}: confusion must hold non-negative counts, not all zero")
    c = _cost_matrix(fn, cost_matrix, cm.shape[0])
    return float((cm * c).sum() / cm.sum())


def cost_curve(y_true, y_score, cost_matrix, pos_label=None):
    """The expected cost of the rule ``score >= t`` for every threshold t that changes a decision.
    Returns (thresholds, costs), thresholds decreasing from +inf (all predicted negative) to the
    lowest score (all positive). ``cost_matrix``: 2x2, ``[[C_TN, C_FP], [C_FN, C_TP]]``."""
    fn = "cost_curve"
    positive = _binary_targets(fn, y_true, pos_label)
    score = _scores(fn, y_score, positive.size)
    c = _cost_matrix(fn, cost_matrix, 2)
    fps, tps, thr = _clf_counts(positive, score)
    fps, tps = np.r_[0.0, fps], np.r_[0.0, tps]
    n_pos = float(positive.sum())
    n_neg = positive.size - n_pos
    tn, fn_ = n_neg - fps, n_pos - tps
    costs = (tn * c[0, 0] + fps * c[0, 1] + fn_ * c[1, 0] + tps * c[1, 1]) / positive.size
    return np.r_[np.inf, thr], costs


def best_threshold(y_true, y_score, cost_matrix, pos_label=None):
    """The threshold of least expected cost, and that cost: (threshold, cost). Among equal costs
    the highest threshold (the fewest positive predictions) is chosen; +inf means "never predict
    positive" is cheapest."""
    thr, costs = cost_curve(y_true, y_score, cost_matrix, pos_label)
    i = int(np.argmin(costs))  # argmin returns the first minimum: the highest threshold
    return float(thr[i]), float(costs[i])


# ---------------------------------------------------------------- ROC and precision-recall
def _keep_turns(*steps):
    """Indices of the points to keep: the ends, and each point where a curve changes direction
    (the step into it differs from the step out of it in any coordinate)."""
    n = steps[0].size
    if n <= 2:
        return np.arange(n)
    turn = np.zeros(n - 2, dtype=bool)
    for v in steps:
        d = np.diff(v)
        turn |= d[1:] != d[:-1]
    return np.nonzero(np.r_[True, turn, True])[0]


def roc_curve(y_true, y_score, pos_label=None, drop_intermediate=True):
    """(fpr, tpr, thresholds) of the binary ROC curve, as ``sklearn.metrics.roc_curve``: one point
    per distinct score (the rule ``score >= threshold``), starting at (0, 0) with threshold +inf.
    ``drop_intermediate`` leaves out points on a straight run of equal steps (the curve is the
    same). All samples of one class: the undefined rate is NaN, with an UndefinedMetricWarning."""
    fn = "roc_curve"
    positive = _binary_targets(fn, y_true, pos_label)
    score = _scores(fn, y_score, positive.size)
    fps, tps, thr = _clf_counts(positive, score)
    if drop_intermediate:
        keep = _keep_turns(fps, tps)
        fps, tps, thr = fps[keep], tps[keep], thr[keep]
    fps, tps, thr = np.r_[0.0, fps], np.r_[0.0, tps], np.r_[np.inf, thr]
    with np.errstate(invalid="ignore", divide="ignore"):
        if fps[-1] <= 0:
            warnings.warn(f"{fn}: no negative samples in y_true: the false positive rate is undefined (NaN)",
                          UndefinedMetricWarning, stacklevel=2)
            fpr = np.full(fps.shape, np.nan)
        else:
            fpr = fps / fps[-1]
        if tps[-1] <= 0:
            warnings.warn(f"{fn}: no positive samples in y_true: the true positive rate is undefined (NaN)",
                          UndefinedMetricWarning, stacklevel=2)
            tpr = np.full(tps.shape, np.nan)
        else:
            tpr = tps / tps[-1]
    return fpr, tpr, thr


def precision_recall_curve(y_true, y_score, pos_label=None, drop_intermediate=False):
    """(precision, recall, thresholds) as ``sklearn.metrics.precision_recall_curve``: thresholds
    increasing over the distinct scores; precision and recall one longer, ending at (1, 0).
    ``drop_intermediate`` keeps only the first and last point of each run of equal recall.
    No positive samples: recall is 1 everywhere, with an UndefinedMetricWarning."""
    fn = "precision_recall_curve"
    positive = _binary_targets(fn, y_true, pos_label)
    score = _scores(fn, y_score, positive.size)
    fps, tps, thr = _clf_counts(positive, score)
    if drop_intermediate and tps.size > 2:
        same_before = np.r_[False, tps[1:] == tps[:-1]]
        same_after = np.r_[tps[:-1] == tps[1:], False]
        keep = np.nonzero(~(same_before & same_after))[0]
        fps, tps, thr = fps[keep], tps[keep], thr[keep]
    precision = tps / (tps + fps)  # tps + fps >= 1: every threshold is a score of some sample
    if tps[-1] <= 0:
        warnings.warn(f"{fn}: no positive samples in y_true: recall is set to 1 for every threshold",
                      UndefinedMetricWarning, stacklevel=2)
        recall = np.ones_like(tps)
    else:
        recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thr[::-1]


def auc(x, y):
    """Area under the curve through the points (x, y) by the trapezoidal rule; x must be monotonic
    (increasing or decreasing), as ``sklearn.metrics.auc``."""
    fn = "auc"
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or y.shape != x.shape:
        raise ValueError(f"auc: x and y must be 1-D of the same length, got shapes {x.shape} and {y.shape}")
    if x.size < 2:
        raise ValueError(f"{fn}: at least 2 points are needed to compute an area, got {x.size}")
    dx = np.diff(x)
    if np.all(dx >= 0):
        sign = 1.0
    elif np.all(dx <= 0):
        sign = -1.0
    else:
        raise ValueError(f"{fn}: x is neither increasing nor decreasing: {x[:8]}...")
    return float(sign * np.sum(dx * (y[1:] + y[:-1]) / 2.0))


def _binary_auc(positive, score):
    fps, tps, _ = _clf_counts(positive, score)
    return auc(np.r_[0.0, fps] / fps[-1], np.r_[0.0, tps] / tps[-1])


def _one_vs_rest(fn, y_true, y_score, labels):
    y = _labels_1d(fn, "y_true", y_true)
    s = _scores(fn, y_score, y.size, ndim=2)
    labels = np.unique(y) if labels is None else np.asarray(labels)
    if s.shape[1] != labels.size:
        raise ValueError(f"{fn}: y_score has {s.shape[1]} columns but there are {labels.size} classes "
                         f"{list(labels)[:8]} (give labels= in y_score's column order)")
    if not np.isin(y, labels).all():
        raise ValueError(f"{fn}: y_true has labels outside {list(labels)}")
    return y, s, labels


def _average(fn, average):
    if average not in (None, "macro", "micro", "weighted"):
        raise ValueError(f"{fn}: average must be None, 'macro', 'micro' or 'weighted', got {average!r}")


def roc_auc_score(y_true, y_score, average="macro", labels=None, pos_label=None):
    """Area under the ROC curve. Binary: ``y_score`` 1-D (the positive class's score). Several
    classes: ``y_score`` (n, k), one column per class of ``labels`` (default: sorted y_true),
    one-vs-rest; ``average``: None (one AUC per class), 'macro' (their mean), 'weighted' (weighted
    by each class's count), 'micro' (one curve over every (sample, class) pair). A class without
    positives or negatives has no AUC: NaN with an UndefinedMetricWarning, as scikit-learn."""
    fn = "roc_auc_score"
    _average(fn, average)
    if np.asarray(y_score).ndim == 1:
        positive = _binary_targets(fn, y_true, pos_label)
        score = _scores(fn, y_score, positive.size)
        if positive.all() or not positive.any():
            warnings.warn(f"{fn}: only one class is present in y_true: ROC AUC is not defined (NaN)",
                          UndefinedMetricWarning, stacklevel=2)
            return float("nan")
        return _binary_auc(positive, score)
    y, s, labels = _one_vs_rest(fn, y_true, y_score, labels)
    onehot = y[:, None] == labels[None, :]
    if average == "micro":
        return _binary_auc(onehot.ravel(), s.ravel())
    per_class = np.full(labels.size, np.nan)
    for j in range(labels.size):
        if onehot[:, j].any() and not onehot[:, j].all():
            per_class[j] = _binary_auc(onehot[:, j], s[:, j])
    if np.isnan(per_class).any():
        warnings.warn(f"{fn}: classes {list(labels[np.isnan(per_class)])} have no positive (or no negative) "
                      "sample: their AUC is NaN", UndefinedMetricWarning, stacklevel=2)
    if average is None:
        return per_class
    if average == "weighted":
        return float(np.sum(per_class * onehot.sum(axis=0)) / onehot.sum())
    return float(np.mean(per_class))


def _average_precision(positive, score):
    fps, tps, _ = _clf_counts(positive, score)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    # AP = sum over thresholds of (R_n - R_{n-1}) P_n: the step-wise area, no interpolation
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def average_precision_score(y_true, y_score, average="macro", labels=None, pos_label=None):
    """Average precision, ``sum_n (R_n - R_{n-1}) P_n`` over the thresholds (the step-wise area
    under the precision-recall curve), as ``sklearn.metrics.average_precision_score``. Binary or
    one-vs-rest with ``average`` None / 'macro' / 'weighted' / 'micro' as in ``roc_auc_score``.
    No positive sample: 0 with an UndefinedMetricWarning (no threshold recalls anything)."""
    fn = "average_precision_score"
    _average(fn, average)
    if np.asarray(y_score).ndim == 1:
        positive = _binary_targets(fn, y_true, pos_label)
        score = _scores(fn, y_score, positive.size)
        if not positive.any():
            warnings.warn(f"{fn}: no positive samples in y_true: average precision is 0",
                          UndefinedMetricWarning, stacklevel=2)
            return 0.0
        return _average_precision(positive, score)
    y, s, labels = _one_vs_rest(fn, y_true, y_score, labels)
    onehot = y[:, None] == labels[None, :]
    if average == "micro":
        return _average_precision(onehot.ravel(), s.ravel())
    per_class = np.array([_average_precision(onehot[:, j], s[:, j]) if onehot[:, j].any() else 0.0
                          for j in range(labels.size)])
    if average is None:
        return per_class
    if average == "weighted":
        return float(np.sum(per_class * onehot.sum(axis=0)) / onehot.sum())
    return float(np.mean(per_class))


def roc_curve_ovr(y_true, y_score, labels=None):
    """One-vs-rest ROC curves of a k-class problem: a dict with each label -> (fpr, tpr,
    thresholds) of "this class against the rest", 'micro' -> the curve over every (sample, class)
    pair, 'macro' -> (fpr grid, mean tpr, None): the class curves averaged on the union of their
    fpr values (linear interpolation). ``y_score`` (n, k), columns in ``labels``' order."""
    fn = "roc_curve_ovr"
    y, s, labels = _one_vs_rest(fn, y_true, y_score, labels)
    onehot = (y[:, None] == labels[None, :]).astype(np.int64)
    curves = {}
    for j, lab in enumerate(labels.tolist()):
        curves[lab] = roc_curve(onehot[:, j], s[:, j])
    curves["micro"] = roc_curve(onehot.ravel(), s.ravel())
    grid = np.unique(np.concatenate([curves[lab][0] for lab in labels.tolist()]))
    mean_tpr = np.mean([np.interp(grid, curves[lab][0], curves[lab][1]) for lab in labels.tolist()], axis=0)
    curves["macro"] = (grid, mean_tpr, None)
    return curves


def precision_recall_curve_ovr(y_true, y_score, labels=None):
    """One-vs-rest precision-recall curves: a dict with each label -> (precision, recall,
    thresholds) and 'micro' -> the curve over every (sample, class) pair. (A macro average of
    these curves has no single standard; ``average_precision_score(average='macro')`` gives the
    macro summary.)"""
    fn = "precision_recall_curve_ovr"
    y, s, labels = _one_vs_rest(fn, y_true, y_score, labels)
    onehot = (y[:, None] == labels[None, :]).astype(np.int64)
    curves = {lab: precision_recall_curve(onehot[:, j], s[:, j]) for j, lab in enumerate(labels.tolist())}
    curves["micro"] = precision_recall_curve(onehot.ravel(), s.ravel())
    return curves


# ---------------------------------------------------------------- figures (matplotlib optional)
def plot_roc(y_true, y_score, pos_label=None, ax=None, label=None, title="ROC curve"):
    """Draw the ROC curve with the chance diagonal; the legend gives the AUC and the deck's
    reading of it. Returns the figure (None without matplotlib)."""
    from .utils.plots import get_pyplot
    fpr, tpr, _ = roc_curve(y_true, y_score, pos_label=pos_label, drop_intermediate=False)
    value = auc(fpr, tpr)
    if ax is None:
        plt = get_pyplot()
        if plt is None:
            return None
        fig, ax = plt.subplots(figsize=(5, 5))
    else:
        fig = ax.figure
    ax.plot(fpr, tpr, label=(label + ": " if label else "") + describe_auc(value, print_fn=None))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random (AUC = 0.5)")
    ax.set_xlabel("false positive rate (1 - specificity)")
    ax.set_ylabel("true positive rate (sensitivity)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=7)
    return fig


def plot_cost_curve(y_true, y_score, cost_matrix, pos_label=None, ax=None, title="expected cost per threshold"):
    """Draw the expected cost against the threshold, marking the cheapest. Returns the figure
    (None without matplotlib)."""
    from .utils.plots import get_pyplot
    thr, costs = cost_curve(y_true, y_score, cost_matrix, pos_label)
    best_t, best_c = best_threshold(y_true, y_score, cost_matrix, pos_label)
    if ax is None:
        plt = get_pyplot()
        if plt is None:
            return None
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    finite = np.isfinite(thr)
    ax.step(thr[finite], costs[finite], where="post")
    if np.isfinite(best_t):
        ax.axvline(best_t, color="red", linestyle="--", label=f"cheapest: t = {best_t:.3g}, cost = {best_c:.3g}")
        ax.legend(fontsize=7)
    ax.set_xlabel("threshold (predict positive when score >= t)")
    ax.set_ylabel("expected cost per sample")
    ax.set_title(title)
    return fig


# ---------------------------------------------------------------- bias and variance (deck 002)
def diagnose(train_error, val_error, target_error=0.0, tolerance=0.05):
    """The deck's reading of a model's errors (at its largest training set): 'high bias' when the
    training error itself is more than ``tolerance`` above ``target_error`` (the error you could
    hope for: 0, or a human's or the best model's), 'high variance' when the validation error is
    more than ``tolerance`` above the training error, both, or 'good fit'. A rule of thumb: the
    tolerance is yours to set, and the labels are as good as it is."""
    for name, v in (("train_error", train_error), ("val_error", val_error), ("target_error", target_error),
                    ("tolerance", tolerance)):
        if not np.isfinite(v):
            raise ValueError(f"diagnose: {name} must be a finite number, got {v!r}")
    labels = []
    if train_error - target_error > tolerance:
        labels.append("high bias")
    if val_error - train_error > tolerance:
        labels.append("high variance")
    return " and ".join(labels) or "good fit"


class LearningCurve:
    """Training and validation error against the number of training samples (what
    :func:`learning_curve` returns): ``sizes``, ``train_error``/``val_error`` (mean over folds,
    error = 1 - score) and their standard deviations, and ``diagnosis`` of the last point."""

    def __init__(self, sizes, train_scores, val_scores, target_error, tolerance):
        self.sizes = np.asarray(sizes)
        self.train_error = 1 - train_scores.mean(axis=1)
        self.val_error = 1 - val_scores.mean(axis=1)
        self.train_std = train_scores.std(axis=1)
        self.val_std = val_scores.std(axis=1)
        self.diagnosis = diagnose(self.train_error[-1], self.val_error[-1], target_error, tolerance)

    def table(self):
        lines = ["| training samples | training error | validation error | gap |", "|---|---|---|---|"]
        for n, tr, va in zip(self.sizes, self.train_error, self.val_error):
            lines.append(f"| {n} | {tr:.4f} | {va:.4f} | {va - tr:+.4f} |")
        return "\n".join(lines)

    def plot(self, ax=None, title="learning curve"):
        from .utils.plots import get_pyplot
        if ax is None:
            plt = get_pyplot()
            if plt is None:
                return None
            fig, ax = plt.subplots(figsize=(5.5, 4))
        else:
            fig = ax.figure
        ax.plot(self.sizes, self.train_error, "o-", label="training error")
        ax.plot(self.sizes, self.val_error, "o-", label="validation error")
        ax.set_xlabel("training samples")
        ax.set_ylabel("error (1 - accuracy)")
        ax.set_title(f"{title}: {self.diagnosis}")
        ax.legend(fontsize=8)
        return fig


def learning_curve(estimator, X, y, train_sizes=(0.1, 0.325, 0.55, 0.775, 1.0), cv=5, target_error=0.0,
                   tolerance=0.05, random_state=0):
    """scikit-learn's ``learning_curve`` for ``estimator`` (a ``pydl.wrappers`` estimator or any
    scikit-learn one; score = accuracy for classifiers), as a :class:`LearningCurve` with the
    bias/variance diagnosis. ``cv``: folds (stratified and shuffled with ``random_state`` for a
    classifier) or a splitter."""
    from sklearn import model_selection as ms
    from sklearn.base import is_classifier
    if isinstance(cv, numbers.Integral):
        splitter = ms.StratifiedKFold if is_classifier(estimator) else ms.KFold
        cv = splitter(n_splits=int(cv), shuffle=True, random_state=random_state)
    sizes, train, val = ms.learning_curve(estimator, X, y, train_sizes=train_sizes, cv=cv, n_jobs=1)
    return LearningCurve(sizes, train, val, target_error, tolerance)


def compare_models(models, X, y, cv=5, random_state=0):
    """Cross-validate several estimators on the SAME folds (deck 002: the network beside other
    machine-learning models): ``{name: estimator}`` -> ``{name: fold scores}``, and
    :func:`comparison_table` prints them. ``cv`` as in :func:`learning_curve`."""
    from sklearn import model_selection as ms
    from sklearn.base import is_classifier
    if not isinstance(models, dict) or not models:
        raise ValueError("compare_models: give a dict {name: estimator} of at least one model")
    if isinstance(cv, numbers.Integral):
        first = next(iter(models.values()))
        splitter = ms.StratifiedKFold if is_classifier(first) else ms.KFold
        cv = splitter(n_splits=int(cv), shuffle=True, random_state=random_state)
    return {name: ms.cross_val_score(est, X, y, cv=cv, n_jobs=1) for name, est in models.items()}


def comparison_table(scores):
    """Markdown table of :func:`compare_models`' result, best mean first."""
    lines = ["| model | mean score | std | min | max |", "|---|---|---|---|---|"]
    for name, s in sorted(scores.items(), key=lambda kv: -np.mean(kv[1])):
        s = np.asarray(s)
        lines.append(f"| {name} | {s.mean():.4f} | {s.std():.4f} | {s.min():.4f} | {s.max():.4f} |")
    return "\n".join(lines)
