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
    with pytest.raises(NotImplementedError, match="multi_label"):
        M.AUC(multi_label=True)


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
              M.TopKCategoricalAccuracy(3), M.TruePositives([0.2, 0.6])):
        again = M.deserialize(M.serialize(m))
        assert type(again) is type(m) and again.get_config() == m.get_config()


def test_auto_mode_of_callbacks_follows_the_metric_direction():
    from pydl.callbacks import _monitor_op
    for name in ("val_auc", "precision", "val_recall", "f1_score", "val_true_positives", "accuracy"):
        assert _monitor_op("auto", name) == "max", name
    for name in ("val_loss", "false_positives", "val_mse"):
        assert _monitor_op("auto", name) == "min", name
