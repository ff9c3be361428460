"""The streaming confusion metrics (Precision, Recall, AUC, F1Score, counts, top-k): Keras's
semantics over several batches, checked against scikit-learn on random and edge-case data."""
import numpy as np
import pytest

import pydl
from pydl import metrics as M

skm = pytest.importorskip("sklearn.metrics")


def stream(metric, y, p, w=None, batches=3):
    """Feed (y, p, w) to the metric in uneven batches; return result()."""
    metric.reset_state()
    cuts = np.linspace(0, len(y), batches + 1).astype(int)
    cuts[1] = max(cuts[1] - 3, 0)
    for a, b in zip(cuts[:-1], cuts[1:]):
        if b > a:
            metric.update_state(y[a:b], p[a:b], None if w is None else w[a:b])
    return metric.result()


@pytest.fixture
def binary():
    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.3).astype(np.float32)
    p = np.clip(0.35 * y + 0.65 * rng.random(200), 0, 1).astype(np.float32)
    w = rng.random(200) + 0.2
    return y, p, w


def test_counts_precision_recall_match_scikit_learn(binary):
    y, p, w = binary
    for thr in (0.3, 0.5, 0.8):
        pred = (p > thr).astype(int)  # Keras: positive when > threshold
        cm = skm.confusion_matrix(y, pred, sample_weight=w)
        assert stream(M.TruePositives(thr), y, p, w) == pytest.approx(cm[1, 1])
        assert stream(M.FalsePositives(thr), y, p, w) == pytest.approx(cm[0, 1])
        assert stream(M.TrueNegatives(thr), y, p, w) == pytest.approx(cm[0, 0])
        assert stream(M.FalseNegatives(thr), y, p, w) == pytest.approx(cm[1, 0])
        assert stream(M.Precision(thr), y, p, w) == pytest.approx(skm.precision_score(y, pred, sample_weight=w))
        assert stream(M.Recall(thr), y, p) == pytest.approx(skm.recall_score(y, pred))
    many = stream(M.Precision(thresholds=[0.2, 0.5, 0.7]), y, p)
    assert isinstance(many, np.ndarray) and many.shape == (3,)
    assert many[1] == pytest.approx(skm.precision_score(y, (p > 0.5).astype(int)))


def test_auc_matches_scikit_learn_with_fine_thresholds(binary):
    y, p, w = binary
    # with more thresholds than distinct scores every ROC point is found: the trapezoids agree
    assert stream(M.AUC(num_thresholds=20001), y, p, w) == pytest.approx(
        skm.roc_auc_score(y, p, sample_weight=w), abs=1e-4)
    # Keras's default 200 buckets: close
    assert stream(M.AUC(), y, p) == pytest.approx(skm.roc_auc_score(y, p), abs=0.01)
    pr = stream(M.AUC(num_thresholds=2001, curve="PR"), y, p)
    assert pr == pytest.approx(skm.average_precision_score(y, p), abs=0.03)
    lo = stream(M.AUC(num_thresholds=2001, summation_method="minoring"), y, p)
    hi = stream(M.AUC(num_thresholds=2001, summation_method="majoring"), y, p)
    assert lo <= stream(M.AUC(num_thresholds=2001), y, p) <= hi
    logits = np.log(np.clip(p, 1e-6, 1 - 1e-6) / np.clip(1 - p, 1e-6, 1))
    assert stream(M.AUC(from_logits=True), y, logits) == pytest.approx(stream(M.AUC(), y, p), abs=1e-3)


def test_edge_cases_all_one_class_ties_and_empty():
    y = np.ones(10, np.float32)
    p = np.full(10, 0.7, np.float32)
    assert stream(M.Precision(), y, p) == 1.0
    assert stream(M.Recall(), np.zeros(10, np.float32), p) == 0.0  # no positive label: 0 (divide_no_nan)
    assert stream(M.Precision(), y, np.zeros(10, np.float32)) == 0.0  # nothing predicted positive
    assert stream(M.AUC(), y, p) == 0.0  # one class: no false-positive axis (Keras gives 0)
    m = M.Recall()
    assert m.result() == 0.0  # nothing seen yet
    # ties: every score equal, half the labels positive: the ROC is the diagonal
    assert stream(M.AUC(), np.array([0, 1] * 5, np.float32), p) == pytest.approx(0.5)


def test_f1_score_matches_scikit_learn():
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 4, 150)
    y = np.eye(4, dtype=np.float32)[ids]
    scores = rng.random((150, 4)).astype(np.float32)
    scores[np.arange(150), ids] += 0.4 * rng.random(150)
    scores /= scores.sum(1, keepdims=True)
    pred = scores.argmax(1)
    for average in ("micro", "macro", "weighted"):
        assert stream(M.F1Score(average=average), y, scores) == pytest.approx(
            skm.f1_score(ids, pred, average=average), abs=1e-5)
    np.testing.assert_allclose(stream(M.F1Score(), y, scores), skm.f1_score(ids, pred, average=None), atol=1e-5)
    thr = (scores > 0.3).astype(int)
    assert stream(M.F1Score(average="macro", threshold=0.3), y, scores) == pytest.approx(
        skm.f1_score(y.astype(int), thr, average="macro", zero_division=0), abs=1e-5)


def test_top_k_accuracy_matches_scikit_learn():
    rng = np.random.default_rng(2)
    ids = rng.integers(0, 6, 100)
    scores = rng.random((100, 6)).astype(np.float32)
    for k in (1, 2, 4):
        want = skm.top_k_accuracy_score(ids, scores, k=k, labels=range(6))
        assert stream(M.TopKCategoricalAccuracy(k), np.eye(6, dtype=np.float32)[ids], scores) == pytest.approx(want)
        assert stream(M.SparseTopKCategoricalAccuracy(k), ids.astype(np.float32), scores) == pytest.approx(want)


def test_labels_of_the_wrong_kind_raise():
    p = np.full((4, 3), 1 / 3, np.float32)
    with pytest.raises(ValueError, match="y_true must hold 0/1 labels.*found 2"):
        M.Precision().update_state(np.array([0, 2, 1, 1.0]), np.full(4, 0.5))
    with pytest.raises(ValueError, match=r"predictions must be probabilities in \[0, 1\]"):
        M.AUC().update_state(np.ones(3), np.array([0.5, 1.5, -2.0]))
    with pytest.raises(ValueError, match="one-hot rows are needed"):
        M.TopKCategoricalAccuracy(2).update_state(np.array([0, 1, 2, 0.0]), p)
    with pytest.raises(ValueError, match="y_true has shape"):
        M.F1Score().update_state(np.array([0, 1, 2, 0.0]), p)
    with pytest.raises(ValueError, match="thresholds must be numbers in"):
        M.Precision(thresholds=1.5)
    with pytest.raises(ValueError, match="num_labels .* only when multi_label"):
        M.AUC(num_labels=3)


def test_in_compile_by_name_reset_per_epoch_and_as_a_monitor():
    from pydl.layers import Dense
    from pydl.models import Sequential
    from pydl.callbacks import EarlyStopping
    rng = np.random.default_rng(3)
    x = rng.standard_normal((120, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)[:, None]
    pydl.manual_seed(0)
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["auc", "precision", M.Recall(name="rec")])
    h = model.fit(x, y, batch_size=32, epochs=3, validation_data=(x, y), verbose=0,
                  callbacks=[EarlyStopping(monitor="val_auc", patience=5)])
    assert {"auc", "precision", "rec", "val_auc", "val_precision", "val_rec"} <= set(h.history)
    # the last epoch's validation AUC is the final model's, over the whole set
    p = model.predict(x, verbose=0)
    assert h.history["val_auc"][-1] == pytest.approx(stream(M.AUC(), y, p), abs=1e-6)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["precision"] == pytest.approx(skm.precision_score(y[:, 0], (p[:, 0] > 0.5).astype(int)))


def test_config_round_trip():
    for m in (M.Precision(0.3, top_k=2, class_id=1), M.AUC(num_thresholds=50, curve="PR"), M.F1Score("macro", 0.4),
              M.TopKCategoricalAccuracy(3), M.TruePositives([0.2, 0.6]), M.FBetaScore("weighted", 2.0, 0.3),
              M.AUC(multi_label=True, num_labels=2, label_weights=[1, 2], curve="PRGAIN"),
              M.AUC(thresholds=[0.3, 0.1], from_logits=True), M.Recall(thresholds=[0.6, 0.2], top_k=1)):
        again = M.deserialize(M.serialize(m))
        assert type(again) is type(m) and again.get_config() == m.get_config()
        if hasattr(m, "thresholds"):
            assert again.thresholds == m.thresholds


def test_auto_mode_of_callbacks_follows_the_metric_direction():
    from pydl.callbacks import _monitor_op
    for name in ("val_auc", "precision", "val_recall", "f1_score", "val_fbeta_score", "val_true_positives",
                 "accuracy"):
        assert _monitor_op("auto", name) == "max", name
    for name in ("val_loss", "false_positives", "val_mse"):
        assert _monitor_op("auto", name) == "min", name


# ---------------------------------------------------------------- issue 11: counts in C++, AUC's arguments
def grid_scores(rng, shape, n=201):
    """Scores on AUC(num_thresholds=n)'s grid j / (n - 1), computed as Keras computes the
    thresholds: each score sits exactly on a threshold, so the counts at the thresholds meet every
    distinct score and the curve's points are exactly scikit-learn's."""
    return rng.integers(0, n, shape) / (n - 1)


def splits(metric, y, p, w=None, cuts=()):
    metric.reset_state()
    edges = [0, *cuts, len(y)]
    for a, b in zip(edges[:-1], edges[1:]):
        metric.update_state(y[a:b], p[a:b], None if w is None else w[a:b])
    return metric.result()


def test_ties_exactly_at_the_threshold_are_negative():
    # Keras: positive only when > threshold; 0.5 at threshold 0.5 is a negative prediction
    y = np.array([1, 0, 1, 0], np.float32)
    p = np.array([0.5, 0.5, 0.6, 0.2], np.float32)
    assert stream(M.TruePositives(0.5), y, p) == 1 and stream(M.FalseNegatives(0.5), y, p) == 1
    assert stream(M.FalsePositives(0.5), y, p) == 0 and stream(M.TrueNegatives(0.5), y, p) == 2
    # 0.4999 would make the two 0.5s positive
    assert stream(M.TruePositives(0.4999), y, p) == 2 and stream(M.FalsePositives(0.4999), y, p) == 1


def test_threshold_lists_in_any_order_and_a_single_one_gives_a_number(binary):
    y, p, w = binary
    got = stream(M.Recall(thresholds=[0.7, 0.2, 0.45]), y, p, w)
    want = [skm.recall_score(y, (p > t).astype(int), sample_weight=w) for t in (0.7, 0.2, 0.45)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    one = stream(M.Precision(thresholds=[0.4]), y, p)
    assert isinstance(one, float) and one == pytest.approx(skm.precision_score(y, (p > 0.4).astype(int)))


def test_empty_batches_and_all_one_class():
    rng = np.random.default_rng(4)
    y = (rng.random(50) < 0.5).astype(np.float32)
    p = rng.random(50)
    for m in (M.AUC(), M.AUC(curve="PR"), M.Precision(), M.Recall(), M.TruePositives([0.2, 0.8])):
        whole = splits(m, y, p)
        with_empty = splits(m, y, p, cuts=(0, 0, 20, 20, 50))  # empty batches first, between and last
        np.testing.assert_array_equal(with_empty, whole)
    m = M.AUC()
    m.update_state(np.zeros(0), np.zeros(0))
    assert m.result() == 0.0  # nothing seen
    # all positive: no false-positive rate, ROC AUC 0 as Keras; PR AUC is the precision, 1
    ones = np.ones(30, np.float32)
    assert stream(M.AUC(), ones, p[:30]) == 0.0
    assert stream(M.AUC(curve="PR"), ones, p[:30]) == pytest.approx(1.0)
    assert stream(M.Recall(), ones, p[:30]) == pytest.approx(np.mean(p[:30] > 0.5))
    # all negative: recall 0 (no positive label), precision 0 at a threshold nothing passes
    zeros = np.zeros(30, np.float32)
    assert stream(M.Recall(), zeros, p[:30]) == 0.0
    assert stream(M.Precision(0.99), zeros, np.full(30, 0.3)) == 0.0


def test_roc_auc_equals_scikit_learn_exactly_on_grid_scores():
    rng = np.random.default_rng(5)
    y = (rng.random(400) < 0.4).astype(np.float32)
    p = np.clip(grid_scores(rng, 400) + 0.3 * y, 0, 1)
    p = np.round(p * 200) / 200  # back on the grid
    w = rng.random(400) + 0.1
    # every score sits on a threshold, so the points are sklearn's points (ties included): the
    # trapezoids agree to rounding
    assert stream(M.AUC(), y, p, w) == pytest.approx(skm.roc_auc_score(y, p, sample_weight=w), abs=1e-12)
    assert stream(M.AUC(), y, p) == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)


def test_roc_auc_within_the_bucket_bound_on_continuous_scores(binary):
    y, p, w = binary
    n = 50
    # scores in the same bucket of width 1/(n-1) look tied: each positive-negative pair in a bucket
    # counts 1/2 instead of 0 or 1, so the error is at most sum_b pos_b neg_b / (2 P N) (weighted)
    edges = np.array([(i + 1) / (n - 1) for i in range(n - 2)])
    b = np.searchsorted(edges, p, side="left")
    pos = np.bincount(b, weights=w * y, minlength=n)
    neg = np.bincount(b, weights=w * (1 - y), minlength=n)
    bound = np.sum(pos * neg) / (2 * pos.sum() * neg.sum())
    got = stream(M.AUC(num_thresholds=n), y, p, w)
    assert abs(got - skm.roc_auc_score(y, p, sample_weight=w)) <= bound + 1e-12
    assert bound < 0.05  # the bound says something


def test_pr_auc_brackets_average_precision():
    rng = np.random.default_rng(6)
    y = (rng.random(300) < 0.3).astype(np.float32)
    p = np.round(np.clip(0.3 * y + 0.7 * rng.random(300), 0, 1) * 200) / 200  # on the grid of 201 thresholds
    w = rng.random(300) + 0.1
    ap = skm.average_precision_score(y, p, sample_weight=w)
    lo = stream(M.AUC(curve="PR", summation_method="minoring"), y, p, w)
    hi = stream(M.AUC(curve="PR", summation_method="majoring"), y, p, w)
    mid = stream(M.AUC(curve="PR"), y, p, w)
    # with every score on a threshold, average precision takes each step's precision at its
    # lower threshold: between the smaller and the larger of the step's two ends; the Davis &
    # Goadrich interpolation of a step lies between them too
    assert lo - 1e-12 <= ap <= hi + 1e-12
    assert lo - 1e-12 <= mid <= hi + 1e-12
    assert abs(mid - ap) <= hi - lo + 1e-12


def test_pr_gain_against_its_definition():
    rng = np.random.default_rng(7)
    y = (rng.random(200) < 0.35).astype(np.float32)
    p = np.clip(0.3 * y + 0.7 * rng.random(200), 0, 1)
    m = M.AUC(num_thresholds=30, curve="PRGAIN")
    got = stream(m, y, p)
    # Flach & Kull: with pi the share of positives, gain(v) = (v - pi) / ((1 - pi) v) for recall
    # and precision; no true positive: recall gain 0, precision gain 1; recall gain clipped at 0
    pi = np.mean(y, dtype=np.float64)
    rg, pg = [], []
    for t in m.thresholds:
        tp = np.sum((p > t) & (y == 1))
        fp = np.sum((p > t) & (y == 0))
        if tp == 0:
            rg.append(0.0), pg.append(1.0)
            continue
        rec, prec = tp / y.sum(), tp / (tp + fp)
        rg.append(max((rec - pi) / ((1 - pi) * rec), 0.0))
        pg.append((prec - pi) / ((1 - pi) * prec))
    rg, pg = np.array(rg), np.array(pg)
    want = np.sum((rg[:-1] - rg[1:]) * (pg[:-1] + pg[1:]) / 2)
    assert got == pytest.approx(want, abs=1e-9)


def test_multi_label_auc_against_scikit_learn():
    rng = np.random.default_rng(8)
    Y = (rng.random((240, 3)) < [0.2, 0.5, 0.7]).astype(np.float32)
    P = np.round(np.clip(0.35 * Y + 0.65 * rng.random((240, 3)), 0, 1) * 200) / 200
    sw = rng.random(240) + 0.2
    per_label = [skm.roc_auc_score(Y[:, j], P[:, j], sample_weight=sw) for j in range(3)]
    assert stream(M.AUC(multi_label=True), Y, P, sw) == pytest.approx(np.mean(per_label), abs=1e-12)
    assert stream(M.AUC(multi_label=True), Y, P, sw) == pytest.approx(
        skm.roc_auc_score(Y, P, average="macro", sample_weight=sw), abs=1e-12)
    lw = np.array([1.0, 3.0, 0.5])
    assert stream(M.AUC(multi_label=True, num_labels=3, label_weights=lw), Y, P, sw) == pytest.approx(
        np.average(per_label, weights=lw), abs=1e-12)
    # multi_label=False: one curve over every value; label_weights weight the values of each column
    assert stream(M.AUC(), Y, P, sw) == pytest.approx(
        skm.roc_auc_score(Y.ravel(), P.ravel(), sample_weight=np.repeat(sw, 3)), abs=1e-12)
    assert stream(M.AUC(label_weights=lw), Y, P, sw) == pytest.approx(
        skm.roc_auc_score(Y.ravel(), P.ravel(), sample_weight=(sw[:, None] * lw).ravel()), abs=1e-12)
    # per-element sample weights, y_pred's shape
    ew = rng.random((240, 3))
    assert stream(M.AUC(), Y, P, ew) == pytest.approx(
        skm.roc_auc_score(Y.ravel(), P.ravel(), sample_weight=ew.ravel()), abs=1e-12)
    # multi-label PR curves: each brackets that label's average precision
    lo = stream(M.AUC(multi_label=True, curve="PR", summation_method="minoring"), Y, P)
    hi = stream(M.AUC(multi_label=True, curve="PR", summation_method="majoring"), Y, P)
    ap = skm.average_precision_score(Y, P, average="macro")
    assert lo - 1e-12 <= ap <= hi + 1e-12
    # from_logits: the sigmoid first
    Z = rng.standard_normal((240, 3))
    assert stream(M.AUC(multi_label=True, from_logits=True, num_thresholds=2001), Y, Z) == pytest.approx(
        stream(M.AUC(multi_label=True, num_thresholds=2001), Y, 1 / (1 + np.exp(-Z))), abs=1e-12)


def test_multi_label_arguments_are_checked():
    m = M.AUC(multi_label=True, num_labels=3)
    assert m.result() == 0.0 and m.tp.shape == (200, 3)
    with pytest.raises(ValueError, match="4 labels .* counts 3"):
        m.update_state(np.zeros((2, 4)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="shape \\(batch, labels\\)"):
        M.AUC(multi_label=True).update_state(np.zeros((2, 3, 2)), np.zeros((2, 3, 2)))
    with pytest.raises(ValueError, match="one per label weight"):
        M.AUC(label_weights=[1, 2]).update_state(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        M.AUC(label_weights=[1, -2])
    with pytest.raises(ValueError, match="2 label_weights for num_labels=3"):
        M.AUC(multi_label=True, num_labels=3, label_weights=[1, 2])
    with pytest.raises(ValueError, match="curve must be"):
        M.AUC(curve="DET")
    with pytest.raises(ValueError, match="sample_weight has shape"):
        M.AUC().update_state(np.zeros((4, 2)), np.zeros((4, 2)), np.ones(3))
    # the labels seen first fix the count until the end, as Keras's variables
    m = M.AUC(multi_label=True)
    m.update_state(np.eye(2), np.eye(2))
    m.reset_state()
    assert m.tp.shape == (200, 2)
    assert M.AUC(num_thresholds=3).thresholds == [-1e-7, 0.5, 1 + 1e-7]


def test_keras_docstring_values():
    # keras.metrics.AUC's docstring: 0.75, and 1.0 with sample weights [1, 0, 0, 1]
    m = M.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert m.result() == pytest.approx(0.75)
    m.reset_state()
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 0, 1])
    assert m.result() == pytest.approx(1.0)
    # keras.metrics.FBetaScore(beta=2.0, threshold=0.5) and F1Score(threshold=0.5) docstrings
    y = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], np.float32)
    p = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]], np.float32)
    np.testing.assert_allclose(splits(M.FBetaScore(beta=2.0, threshold=0.5), y, p),
                               [0.3846154, 0.90909094, 0.8333334], rtol=1e-6)
    np.testing.assert_allclose(splits(M.F1Score(threshold=0.5), y, p), [0.5, 0.8, 0.6666667], rtol=1e-6)


def test_top_k_and_class_id_as_keras():
    # ties at the k-th place: top_k keeps the lower index (Keras's top_k), so of three tied 0.3s
    # classes 0 and 1 are predicted; with top_k and no thresholds every kept value is positive
    p = np.array([[0.3, 0.3, 0.3, 0.1]])
    assert splits(M.Precision(top_k=2), np.array([[0, 0, 1, 0.]]), p) == 0.0
    assert splits(M.Precision(top_k=2), np.array([[1, 0, 1, 0.]]), p) == 0.5
    assert splits(M.Recall(top_k=1), np.array([[1, 0, 1, 0.]]), p) == 0.5
    rng = np.random.default_rng(9)
    ids = rng.integers(0, 5, 300)
    Y = np.eye(5, dtype=np.float32)[ids]
    S = rng.random((300, 5))
    S /= S.sum(1, keepdims=True)
    top2 = np.argsort(-S, axis=1, kind="stable")[:, :2]
    pred = np.zeros_like(S, dtype=bool)
    np.put_along_axis(pred, top2, True, axis=1)
    assert stream(M.Precision(top_k=2), Y, S) == pytest.approx(np.sum(pred & (Y == 1)) / np.sum(pred))
    assert stream(M.Recall(top_k=2), Y, S) == pytest.approx(np.sum(pred & (Y == 1)) / np.sum(Y))
    # with a threshold too: positive when in the top 2 and > 0.25
    pt = pred & (S > 0.25)
    assert stream(M.Precision(thresholds=0.25, top_k=2), Y, S) == pytest.approx(np.sum(pt & (Y == 1)) / np.sum(pt))
    for c in range(5):
        assert stream(M.Precision(class_id=c, thresholds=0.2), Y, S) == pytest.approx(
            skm.precision_score(Y[:, c], (S[:, c] > 0.2).astype(int), zero_division=0))
        assert stream(M.Recall(class_id=c, top_k=1), Y, S) == pytest.approx(
            skm.recall_score(ids == c, S.argmax(1) == c))
    with pytest.raises(ValueError, match="top_k=6"):
        M.Precision(top_k=6).update_state(Y, S)


def test_multilabel_precision_recall_f_scores_against_scikit_learn():
    rng = np.random.default_rng(10)
    Y = (rng.random((200, 4)) < 0.4).astype(np.float32)
    P = np.clip(0.3 * Y + 0.7 * rng.random((200, 4)), 0, 1)
    sw = rng.random(200) + 0.2
    B = (P > 0.5).astype(int)
    # one count over every value is scikit-learn's micro average
    assert stream(M.Precision(), Y, P, sw) == pytest.approx(
        skm.precision_score(Y, B, average="micro", sample_weight=sw), abs=1e-12)
    assert stream(M.Recall(), Y, P, sw) == pytest.approx(
        skm.recall_score(Y, B, average="micro", sample_weight=sw), abs=1e-12)
    per_class = skm.precision_score(Y, B, average=None, sample_weight=sw, zero_division=0)
    for c in range(4):
        assert stream(M.Precision(class_id=c), Y, P, sw) == pytest.approx(per_class[c], abs=1e-12)
    # F-beta: eps = 1e-7 in Keras's denominators moves values by ~1e-7 / (weighted counts >= 5)
    for beta in (1.0, 0.5, 2.0):
        for average in (None, "micro", "macro", "weighted"):
            m = M.FBetaScore(average=average, beta=beta, threshold=0.5)
            np.testing.assert_allclose(
                stream(m, Y, P, sw),
                skm.fbeta_score(Y, B, beta=beta, average=average, sample_weight=sw, zero_division=0), atol=1e-6)
    ids = rng.integers(0, 4, 200)
    Yc = np.eye(4, dtype=np.float32)[ids]
    np.testing.assert_allclose(stream(M.F1Score(), Yc, P, sw),
                               skm.f1_score(ids, P.argmax(1), average=None, sample_weight=sw), atol=1e-6)
    # an all-zero row predicts nothing with threshold=None (Keras's |x| > 1e-9)
    m = M.F1Score(average="micro")
    m.update_state(np.array([[1, 0.], [0, 1]]), np.array([[0, 0.], [0.2, 0.8]]))
    assert m.tp.tolist() == [0, 1] and m.fp.tolist() == [0, 0] and m.fn.tolist() == [1, 0]
    with pytest.raises(ValueError, match="0 < threshold <= 1"):
        M.F1Score(threshold=0.0)
    with pytest.raises(ValueError, match="beta must be"):
        M.FBetaScore(beta=0)
    with pytest.raises(ValueError, match="sample_weight has shape"):
        M.F1Score().update_state(Yc, P, np.ones((200, 4)))
    assert stream(M.F1Score(average="macro", dtype="float32"), Yc, P) == pytest.approx(
        skm.f1_score(ids, P.argmax(1), average="macro"), abs=1e-6)


def _all_metrics():
    return [M.AUC(), M.AUC(curve="PR"), M.AUC(curve="PR", summation_method="minoring"), M.AUC(curve="PRGAIN"),
            M.AUC(multi_label=True), M.AUC(label_weights=[1, 2, 0.5]), M.Precision(thresholds=[0.3, 0.6]),
            M.Recall(top_k=2), M.Precision(class_id=1), M.TruePositives(), M.TrueNegatives([0.1, 0.9]),
            M.FalsePositives(), M.FalseNegatives(0.7), M.F1Score(average="weighted"),
            M.FBetaScore(beta=2.0, threshold=0.4), M.TopKCategoricalAccuracy(2)]


def test_results_do_not_depend_on_the_batch_split():
    rng = np.random.default_rng(11)
    Y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 97)]
    Y[::5] = (rng.random((20, 3)) < 0.5)  # some multi-label rows too (ignored by top-k's argmax)
    P = np.clip(0.3 * Y + 0.7 * rng.random((97, 3)), 0, 1)
    sw = rng.random(97) + 0.1
    for m in _all_metrics():
        if isinstance(m, M.TopKCategoricalAccuracy):
            Yk = np.eye(3, dtype=np.float32)[Y.argmax(1)]
            whole = splits(m, Yk, P, sw)
            parts = [splits(m, Yk, P, sw, cuts) for cuts in ((1, 2, 50), (96,), (30, 60, 90))]
        else:
            whole = splits(m, Y, P, sw)
            parts = [splits(m, Y, P, sw, cuts) for cuts in ((1, 2, 50), (96,), (0, 30, 30, 60, 90))]
        for got in parts:
            np.testing.assert_allclose(got, whole, rtol=1e-12, atol=1e-12, err_msg=type(m).__name__)


def test_fast_and_reference_backends_agree():
    rng = np.random.default_rng(12)
    Y = (rng.random((500, 3)) < 0.4).astype(np.float32)
    P = np.round(np.clip(0.3 * Y + 0.7 * rng.random((500, 3)), 0, 1) * 40) / 40  # many ties, some on thresholds
    sw = rng.random(500) + 0.1
    ids = rng.integers(0, 3, 500).astype(np.float32)
    before = pydl.get_backend()
    try:
        out = {}
        for backend in ("reference", "fast"):
            pydl.set_backend(backend)
            out[backend] = [stream(m, Y, P, sw) for m in _all_metrics()]
            out[backend].append(stream(M.SparseTopKCategoricalAccuracy(1), ids, P))
        for a, b in zip(out["reference"], out["fast"]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    finally:
        pydl.set_backend(before)


def test_multi_label_auc_and_f1_in_fit_with_a_monitor():
    from pydl.layers import Dense
    from pydl.models import Sequential
    from pydl.callbacks import EarlyStopping
    rng = np.random.default_rng(13)
    x = rng.standard_normal((150, 4)).astype(np.float32)
    Y = np.stack([x[:, 0] > 0, x[:, 1] + x[:, 2] > 0, x[:, 3] > 0.5], axis=1).astype(np.float32)
    pydl.manual_seed(1)
    model = Sequential([Dense(3, activation="sigmoid", input_shape=(4,))])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=[M.AUC(multi_label=True, name="ml_auc"), M.F1Score(average="macro", threshold=0.5),
                           "recall", "true_positives"])
    h = model.fit(x, Y, batch_size=40, epochs=3, validation_data=(x, Y), verbose=0,
                  callbacks=[EarlyStopping(monitor="val_ml_auc", patience=5)])
    assert {"ml_auc", "val_ml_auc", "f1_score", "val_f1_score", "val_recall", "val_true_positives"} <= set(h.history)
    P = model.predict(x, verbose=0)
    assert h.history["val_ml_auc"][-1] == pytest.approx(
        np.mean([stream(M.AUC(), Y[:, j], P[:, j]) for j in range(3)]), abs=1e-6)
    B = (P > 0.5).astype(int)
    assert h.history["val_f1_score"][-1] == pytest.approx(
        skm.f1_score(Y, B, average="macro", zero_division=0), abs=1e-5)
    assert h.history["val_true_positives"][-1] == np.sum((B == 1) & (Y == 1))
