"""pydl.evaluation against scikit-learn's metrics (random data, ties, one class, one threshold)
and against hand-computed costs (issue 11)."""
import warnings

import numpy as np
import pytest

from pydl import evaluation as ev

skm = pytest.importorskip("sklearn.metrics")
from sklearn.preprocessing import label_binarize  # noqa: E402


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def assert_same(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=1e-12, atol=0)


def binary_data(seed, n=80, ties=False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    s = rng.random(n) + 0.4 * y
    if ties:
        s = np.round(s, 1)  # many equal scores
    return y, s


# ---------------------------------------------------------------- binary curves vs scikit-learn
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("drop", [False, True])
def test_roc_and_pr_curves_match_sklearn(seed, ties, drop):
    y, s = binary_data(seed, ties=ties)
    assert_same(ev.roc_curve(y, s, drop_intermediate=drop), skm.roc_curve(y, s, drop_intermediate=drop))
    assert_same(ev.precision_recall_curve(y, s, drop_intermediate=drop),
                skm.precision_recall_curve(y, s, drop_intermediate=drop))
    fpr, tpr, _ = ev.roc_curve(y, s, drop_intermediate=drop)
    assert ev.auc(fpr, tpr) == pytest.approx(skm.roc_auc_score(y, s), rel=1e-12)
    assert ev.roc_auc_score(y, s) == pytest.approx(skm.roc_auc_score(y, s), rel=1e-12)
    assert ev.average_precision_score(y, s) == pytest.approx(skm.average_precision_score(y, s), rel=1e-12)


def test_string_labels_with_pos_label_and_minus_one_plus_one():
    y, s = binary_data(7)
    names = np.array(["ham", "spam"])[y]
    assert_same(ev.roc_curve(names, s, pos_label="spam"), skm.roc_curve(names, s, pos_label="spam"))
    assert_same(ev.precision_recall_curve(names, s, pos_label="ham"),
                skm.precision_recall_curve(names, s, pos_label="ham"))
    pm = 2 * y - 1
    assert_same(ev.roc_curve(pm, s), skm.roc_curve(pm, s))
    assert_same(ev.roc_curve(y.astype(bool), s), skm.roc_curve(y.astype(bool), s))


def test_hand_computed_roc():
    # scores 0.9 (pos), 0.8 (neg), 0.7 (pos), 0.7 (neg): thresholds inf, 0.9, 0.8, 0.7
    y = [1, 0, 1, 0]
    s = [0.9, 0.8, 0.7, 0.7]
    fpr, tpr, thr = ev.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_array_equal(thr, [np.inf, 0.9, 0.8, 0.7])
    np.testing.assert_array_equal(fpr, [0, 0, 0.5, 1])
    np.testing.assert_array_equal(tpr, [0, 0.5, 0.5, 1])
    # area: 0 + (0.5 wide at 0.5) + (0.5 wide from 0.5 to 1, trapezoid) = 0.25 + 0.375
    assert ev.auc(fpr, tpr) == pytest.approx(0.625)


def test_one_threshold_when_every_score_is_equal():
    y = np.array([0, 1, 1, 0, 1])
    s = np.full(5, 0.3)
    ours = ev.roc_curve(y, s)
    assert_same(ours, skm.roc_curve(y, s))
    np.testing.assert_array_equal(ours[2], [np.inf, 0.3])
    assert_same(ev.precision_recall_curve(y, s), skm.precision_recall_curve(y, s))
    assert ev.roc_auc_score(y, s) == 0.5


def test_all_one_class_matches_sklearn():
    s = np.array([0.2, 0.5, 0.9])
    for y in (np.zeros(3, int), np.ones(3, int)):
        with pytest.warns(ev.UndefinedMetricWarning):
            ours = ev.roc_curve(y, s)
        assert_same(ours, quiet(skm.roc_curve, y, s))  # NaN rates where sklearn has them
        assert_same(quiet(ev.precision_recall_curve, y, s), quiet(skm.precision_recall_curve, y, s))
        with pytest.warns(ev.UndefinedMetricWarning, match="only one class"):
            assert np.isnan(ev.roc_auc_score(y, s))
        assert np.isnan(quiet(skm.roc_auc_score, y, s))
        assert quiet(ev.average_precision_score, y, s) == quiet(skm.average_precision_score, y, s)
    with pytest.warns(ev.UndefinedMetricWarning, match="recall is set to 1"):
        ev.precision_recall_curve(np.zeros(3, int), s)


def test_auc_of_a_decreasing_x_and_bad_x():
    assert ev.auc([1.0, 0.5, 0.0], [1.0, 1.0, 0.0]) == pytest.approx(skm.auc([1.0, 0.5, 0.0], [1.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match="neither increasing nor decreasing"):
        ev.auc([0.0, 1.0, 0.5], [0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="at least 2 points"):
        ev.auc([0.0], [1.0])


# ---------------------------------------------------------------- one-vs-rest
def multiclass_data(seed, n=90, k=3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    logits = rng.normal(size=(n, k)) + 1.2 * np.eye(k)[y]
    p = np.exp(logits)
    return y, p / p.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("seed", range(3))
def test_one_vs_rest_auc_and_ap_match_sklearn(seed):
    y, p = multiclass_data(seed)
    Y = label_binarize(y, classes=[0, 1, 2])
    assert ev.roc_auc_score(y, p, average="macro") == pytest.approx(
        skm.roc_auc_score(y, p, multi_class="ovr", average="macro"), rel=1e-12)
    assert ev.roc_auc_score(y, p, average="weighted") == pytest.approx(
        skm.roc_auc_score(y, p, multi_class="ovr", average="weighted"), rel=1e-12)
    assert ev.roc_auc_score(y, p, average="micro") == pytest.approx(
        skm.roc_auc_score(Y, p, average="micro"), rel=1e-12)
    np.testing.assert_allclose(ev.roc_auc_score(y, p, average=None), skm.roc_auc_score(Y, p, average=None),
                               rtol=1e-12)
    for avg in ("macro", "micro", "weighted"):
        assert ev.average_precision_score(y, p, average=avg) == pytest.approx(
            skm.average_precision_score(Y, p, average=avg), rel=1e-12)
    curves = ev.roc_curve_ovr(y, p)
    assert_same(curves["micro"], skm.roc_curve(Y.ravel(), p.ravel()))
    for j in range(3):
        assert_same(curves[j], skm.roc_curve(Y[:, j], p[:, j]))
    pr = ev.precision_recall_curve_ovr(y, p)
    assert_same(pr["micro"], skm.precision_recall_curve(Y.ravel(), p.ravel()))
    assert_same(pr[2], skm.precision_recall_curve(Y[:, 2], p[:, 2]))


def test_macro_roc_curve_averages_the_class_curves():
    y, p = multiclass_data(5)
    curves = ev.roc_curve_ovr(y, p)
    grid, mean_tpr, _ = curves["macro"]
    assert grid[0] == 0.0 and grid[-1] == 1.0 and mean_tpr[-1] == pytest.approx(1.0)
    assert np.all(np.diff(mean_tpr) >= -1e-12)  # a mean of non-decreasing curves
    # perfect scores: every class curve jumps to tpr 1 at fpr 0, so the mean is 1 for fpr > 0
    perfect = np.eye(3)[y]
    g, m, _ = ev.roc_curve_ovr(y, perfect)["macro"]
    np.testing.assert_allclose(m[g > 0], 1.0)


def test_string_classes_one_vs_rest_with_labels_order():
    y, p = multiclass_data(1)
    names = np.array(["cat", "dog", "emu"])[y]
    assert ev.roc_auc_score(names, p) == pytest.approx(skm.roc_auc_score(y, p, multi_class="ovr"), rel=1e-12)
    # columns given in another order: labels= names them
    rev = p[:, ::-1]
    assert ev.roc_auc_score(names, rev, labels=["emu", "dog", "cat"]) == pytest.approx(ev.roc_auc_score(names, p))
    assert set(ev.roc_curve_ovr(names, p)) == {"cat", "dog", "emu", "micro", "macro"}


# ---------------------------------------------------------------- confusion matrix and costs
def test_confusion_matrix_matches_sklearn():
    rng = np.random.default_rng(3)
    t = rng.choice(["a", "b", "c"], size=50)
    q = rng.choice(["a", "b", "c"], size=50)
    np.testing.assert_array_equal(ev.confusion_matrix(t, q), skm.confusion_matrix(t, q))
    np.testing.assert_array_equal(ev.confusion_matrix(t, q, labels=["c", "a"]),
                                  skm.confusion_matrix(t, q, labels=["c", "a"]))
    for norm in ("true", "pred", "all"):
        np.testing.assert_allclose(ev.confusion_matrix(t, q, normalize=norm),
                                   skm.confusion_matrix(t, q, normalize=norm), rtol=1e-12)
    np.testing.assert_array_equal(ev.confusion_matrix([1, 0, 1], [1, 1, 1]), [[0, 1], [0, 2]])


# y and scores of the hand-computed cases: positives score 0.4, 0.8, 0.9; negatives 0.1, 0.3, 0.6
Y = [0, 0, 1, 1, 0, 1]
S = [0.1, 0.6, 0.4, 0.8, 0.3, 0.9]
THR = [np.inf, 0.9, 0.8, 0.6, 0.4, 0.3, 0.1]


def test_cost_curve_hand_computed_missed_positive_expensive():
    # a missed positive (FN) costs 5, a false alarm 1. Per threshold (FN, FP):
    # inf (3,0) 15; 0.9 (2,0) 10; 0.8 (1,0) 5; 0.6 (1,1) 6; 0.4 (0,1) 1; 0.3 (0,2) 2; 0.1 (0,3) 3; / 6
    cost = [[0, 1], [5, 0]]
    thr, costs = ev.cost_curve(Y, S, cost)
    np.testing.assert_array_equal(thr, THR)
    np.testing.assert_allclose(costs, np.array([15, 10, 5, 6, 1, 2, 3]) / 6, rtol=1e-15)
    assert ev.best_threshold(Y, S, cost) == (0.4, pytest.approx(1 / 6))
    # the same cost from the confusion matrix of the decisions at 0.4
    pred = (np.array(S) >= 0.4).astype(int)
    cm = ev.confusion_matrix(Y, pred)
    np.testing.assert_array_equal(cm, [[2, 1], [0, 3]])
    assert ev.decision_cost(cm, cost) == pytest.approx(1 / 6)


def test_cost_curve_hand_computed_false_alarm_expensive_and_ties():
    # a false alarm costs 5, a miss 1: inf 3; 0.9 2; 0.8 1; 0.6 6; 0.4 5; 0.3 10; 0.1 15; / 6
    thr, costs = ev.cost_curve(Y, S, [[0, 5], [1, 0]])
    np.testing.assert_allclose(costs, np.array([3, 2, 1, 6, 5, 10, 15]) / 6, rtol=1e-15)
    assert ev.best_threshold(Y, S, [[0, 5], [1, 0]])[0] == 0.8
    # equal costs: 0.8 and 0.4 both cost 1/6 (one error); the higher threshold is chosen
    t, c = ev.best_threshold(Y, S, [[0, 1], [1, 0]])
    assert (t, c) == (0.8, pytest.approx(1 / 6))
    # a gain for a hit (negative cost): predicting everything positive at 0.1 gains 3 * 2 - 3 = 3
    t, c = ev.best_threshold(Y, S, [[0, 1], [1, -2]])
    np.testing.assert_allclose(ev.cost_curve(Y, S, [[0, 1], [1, -2]])[1],
                               np.array([3, 0, -3, -2, -5, -4, -3]) / 6, rtol=1e-15)
    assert (t, c) == (0.4, pytest.approx(-5 / 6))
    # never predicting positive is cheapest when false alarms are ruinous
    assert ev.best_threshold([0, 0, 1], [0.9, 0.8, 0.1], [[0, 100], [1, 0]]) == (np.inf, pytest.approx(1 / 3))


def test_cost_matches_brute_force_on_random_data():
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, size=40)
    s = np.round(rng.random(40), 1)
    cost = np.array([[0.0, 2.0], [7.0, 0.5]])
    thr, costs = ev.cost_curve(y, s, cost)
    for t, c in zip(thr, costs):
        pred = (s >= t).astype(int)
        brute = np.mean(cost[y, pred])  # each sample's cost looked up directly
        assert c == pytest.approx(brute, rel=1e-12)


def test_three_class_decision_cost():
    cm = np.array([[5, 1, 0], [2, 3, 1], [0, 0, 4]])
    cost = np.array([[0, 1, 2], [1, 0, 1], [10, 10, 0]])
    # (1*1 + 2*1 + 1*1) / 16
    assert ev.decision_cost(cm, cost) == pytest.approx(4 / 16)


# ---------------------------------------------------------------- bad input
def test_cost_matrix_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"cost_curve: cost_matrix must be \(2, 2\).*got shape \(3, 3\)"):
        ev.cost_curve(Y, S, np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"decision_cost: cost_matrix must be \(3, 3\).*got shape \(2, 2\)"):
        ev.decision_cost(np.eye(3, dtype=int), [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="NaN or infinity"):
        ev.best_threshold(Y, S, [[0, np.nan], [1, 0]])
    with pytest.raises(TypeError, match="cost_matrix must hold numbers"):
        ev.cost_curve(Y, S, [["a", "b"], ["c", "d"]])
    with pytest.raises(ValueError, match="square matrix of counts"):
        ev.decision_cost(np.zeros((2, 3)), np.zeros((2, 2)))


def test_labels_of_the_wrong_kind():
    with pytest.raises(ValueError, match="roc_curve: y_true must be class labels.*continuous values such as 0.3"):
        ev.roc_curve([0.3, 1.0, 0.0], [0.1, 0.2, 0.3])
    with pytest.raises(TypeError, match="y_score must be numbers"):
        ev.roc_curve([0, 1, 0], ["a", "b", "c"])
    with pytest.raises(ValueError, match="y_true takes the values.*give pos_label"):
        ev.roc_curve(["no", "yes"], [0.1, 0.9])
    with pytest.raises(ValueError, match="3 classes.*one-vs-rest"):
        ev.precision_recall_curve([0, 1, 2], [0.1, 0.5, 0.9])
    with pytest.raises(ValueError, match="y_true has 3 samples but y_score has 2"):
        ev.roc_auc_score([0, 1, 0], [0.1, 0.5])
    with pytest.raises(ValueError, match="NaN or infinity"):
        ev.roc_curve([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="y_score has 2 columns but there are 3 classes"):
        ev.roc_auc_score([0, 1, 2], np.ones((3, 2)))
    with pytest.raises(ValueError, match="1-D class labels"):
        ev.confusion_matrix(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="average must be"):
        ev.roc_auc_score([0, 1], [0.2, 0.4], average="samples")


# ---------------------------------------------------------------- the deck's AUC table
@pytest.mark.parametrize("value,words", [
    (1.0, "perfect classifier"), (0.87, "better than random"), (0.5, "same as random"),
    (0.2, "worse than random"), (0.5000001, "better than random"),
])
def test_describe_auc(value, words):
    printed = []
    text = ev.describe_auc(value, print_fn=printed.append)
    assert printed == [text] and words in text and text.startswith(f"AUC = {value:.3f}")


def test_describe_auc_range():
    with pytest.raises(ValueError, match=r"describe_auc: an AUC lies in \[0, 1\], got 1.2"):
        ev.describe_auc(1.2)
    assert ev.describe_auc(0.75, print_fn=None).startswith("AUC = 0.750  (0.5 < AUC < 1")


def test_plots_draw_with_matplotlib():
    pytest.importorskip("matplotlib")
    y, s = binary_data(0)
    fig = ev.plot_roc(y, s, label="net")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[0].startswith(f"net: AUC = {skm.roc_auc_score(y, s):.3f}")
    fig2 = ev.plot_cost_curve(Y, S, [[0, 1], [5, 0]])
    assert "t = 0.4" in fig2.axes[0].get_legend().get_texts()[0].get_text()
    import matplotlib.pyplot as plt
    plt.close(fig)
    plt.close(fig2)


def test_describe_auc_of_an_undefined_auc():
    value = quiet(ev.roc_auc_score, [1, 1, 1], [0.2, 0.4, 0.6])
    assert "undefined" in ev.describe_auc(value, print_fn=None)


def test_diagnose_by_hand():
    from pydl.evaluation import diagnose
    assert diagnose(0.30, 0.32) == "high bias"
    assert diagnose(0.00, 0.20) == "high variance"
    assert diagnose(0.20, 0.40) == "high bias and high variance"
    assert diagnose(0.02, 0.05) == "good fit"
    assert diagnose(0.12, 0.14, target_error=0.10) == "good fit"
    with pytest.raises(ValueError, match="val_error must be a finite number"):
        diagnose(0.1, float("nan"))


def test_learning_curve_and_compare_models_use_the_same_folds_as_scikit_learn():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score, learning_curve as sk_curve
    from sklearn.tree import DecisionTreeClassifier
    from pydl.evaluation import compare_models, comparison_table, learning_curve
    rng = np.random.default_rng(0)
    x = rng.standard_normal((120, 4))
    y = (x[:, 0] + 0.5 * rng.standard_normal(120) > 0).astype(int)
    scores = compare_models({"lr": LogisticRegression(), "tree": DecisionTreeClassifier(random_state=0)}, x, y, cv=4)
    folds = StratifiedKFold(4, shuffle=True, random_state=0)
    np.testing.assert_allclose(scores["lr"], cross_val_score(LogisticRegression(), x, y, cv=folds))
    text = comparison_table(scores)
    assert text.splitlines()[2].startswith("| lr ")  # the better mean first (a linear truth)
    lc = learning_curve(DecisionTreeClassifier(random_state=0), x, y, train_sizes=(0.5, 1.0), cv=3)
    sizes, tr, va = sk_curve(DecisionTreeClassifier(random_state=0), x, y, train_sizes=(0.5, 1.0),
                             cv=StratifiedKFold(3, shuffle=True, random_state=0))
    np.testing.assert_array_equal(lc.sizes, sizes)
    np.testing.assert_allclose(lc.val_error, 1 - va.mean(axis=1))
    assert lc.train_error[-1] == 0.0 and lc.diagnosis == "high variance"  # an unpruned tree memorises
    with pytest.raises(ValueError, match="dict"):
        compare_models([], x, y)
