"""The RBM (pydl/models/rbm.py and the rbm_* ops): CD-1 against a NumPy transcription of one Gibbs
step and update, the free energy against enumeration, Gibbs sampling against the exact
distribution of a tiny RBM, training, persistent CD, stacking and unrolling, saving, bad input."""
import itertools

import numpy as np
import pytest

import pydl
from pydl import _C
from pydl.models import RBM, pretrain_stack, unroll


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def softplus(a):
    return np.logaddexp(0.0, a)


def tiny(v=6, h=4, b=5, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 0.7, (v, h))
    vb = rng.normal(0, 0.5, v)
    hb = rng.normal(0, 0.5, h)
    x = (rng.random((b, v)) < 0.5).astype(np.float64)
    return x, w, vb, hb


def t64(a):
    return pydl.tensor(np.asarray(a, dtype=np.float64), dtype="float64")


@pytest.mark.parametrize("backend", ["reference", "fast"])
def test_cd1_matches_a_numpy_transcription_of_one_gibbs_step(backend):
    x, w, vb, hb = tiny()
    B, V = x.shape
    H = w.shape[1]
    # the op's uniforms come from pydl's counter-based generator, one counter per unit and draw:
    # after manual_seed, rand() of the same sizes reproduces them in the same order
    pydl.manual_seed(42)
    u_h = pydl.rand(B, H, dtype="float64").numpy()
    u_v = pydl.rand(B, V, dtype="float64").numpy()
    p0 = sigmoid(x @ w + hb)
    h0 = (u_h < p0).astype(np.float64)
    v1 = (u_v < sigmoid(h0 @ w.T + vb)).astype(np.float64)
    p1 = sigmoid(v1 @ w + hb)
    want_dw = (v1.T @ p1 - x.T @ p0) / B
    want_db = (v1 - x).mean(0)
    want_dc = (p1 - p0).mean(0)

    pydl.set_backend(backend)
    try:
        pydl.manual_seed(42)
        dw, db, dc, vk, ph0 = _C.rbm_cd(t64(x), t64(w), t64(vb), t64(hb), 1, None)
    finally:
        pydl.set_backend("fast")
    np.testing.assert_array_equal(vk.numpy(), v1)
    np.testing.assert_allclose(ph0.numpy(), p0, rtol=1e-13)
    np.testing.assert_allclose(dw.numpy(), want_dw, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(db.numpy(), want_db, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dc.numpy(), want_dc, rtol=1e-12, atol=1e-15)


def test_rbm_update_is_sgd_on_the_cd_estimate_with_weight_decay():
    x, w, vb, hb = tiny()
    rbm = RBM(4, learning_rate=0.3, weight_decay=0.01, dtype="float64")
    rbm.set_weights([w, hb, vb])
    pydl.manual_seed(7)
    dw, db, dc, _, _ = _C.rbm_cd(t64(x), t64(w), t64(vb), t64(hb), 1, None)
    pydl.manual_seed(7)
    rbm._update(t64(x), rbm.weights)
    kernel, c, b = rbm.get_weights()
    np.testing.assert_allclose(kernel, w - 0.3 * (dw.numpy() + 0.01 * w), rtol=1e-12)
    np.testing.assert_allclose(c, hb - 0.3 * dc.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b, vb - 0.3 * db.numpy(), rtol=1e-12)


def test_cdk_fast_and_reference_agree():
    rng = np.random.default_rng(3)
    x = (rng.random((40, 30)) < 0.3).astype(np.float64)
    w, vb, hb = rng.normal(0, 0.3, (30, 20)), rng.normal(0, 0.3, 30), rng.normal(0, 0.3, 20)
    outs = {}
    for backend in ("reference", "fast"):
        pydl.set_backend(backend)
        try:
            pydl.manual_seed(5)
            outs[backend] = [t.numpy() for t in _C.rbm_cd(t64(x), t64(w), t64(vb), t64(hb), 5, t64(x[::-1].copy()))]
        finally:
            pydl.set_backend("fast")
    for a, b in zip(outs["reference"], outs["fast"]):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("backend", ["reference", "fast"])
def test_free_energy_against_enumeration(backend):
    x, w, vb, hb = tiny(v=5, h=3)
    want = []
    for v in x:
        energies = [-(v @ vb + np.array(h) @ hb + v @ w @ np.array(h)) for h in itertools.product([0, 1], repeat=3)]
        want.append(-np.log(np.sum(np.exp(-np.array(energies)))))
    pydl.set_backend(backend)
    try:
        got = _C.rbm_free_energy(t64(x), t64(w), t64(vb), t64(hb)).numpy()
    finally:
        pydl.set_backend("fast")
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(got, -(x @ vb) - softplus(x @ w + hb).sum(1), rtol=1e-12)


def test_gibbs_sampling_reaches_the_exact_distribution_of_a_tiny_rbm():
    # p(v) ∝ exp(-F(v)) over the 8 visible states; 6000 chains of 40 Gibbs steps each
    _, w, vb, hb = tiny(v=3, h=2, seed=11)
    rbm = RBM(2, dtype="float64")
    rbm.set_weights([w, hb, vb])
    states = np.array(list(itertools.product([0, 1], repeat=3)), dtype=np.float64)
    f = rbm.free_energy(states)
    exact = np.exp(-f) / np.exp(-f).sum()
    pydl.manual_seed(0)
    start = np.zeros((6000, 3))
    samples = rbm.gibbs(start, steps=40)
    codes = samples @ np.array([4, 2, 1])
    freq = np.bincount(codes.astype(int), minlength=8) / len(codes)
    # the standard error of each frequency is at most sqrt(0.25 / 6000) = 0.0065
    np.testing.assert_allclose(freq, exact, atol=0.03)


def bars_and_stripes(n=4):
    """Every n x n image with whole rows or whole columns on: the classic RBM toy set."""
    out = []
    for bits in itertools.product([0, 1], repeat=n):
        rows = np.repeat(np.array(bits)[:, None], n, axis=1)
        out += [rows.ravel(), rows.T.ravel()]
    return np.unique(np.array(out, dtype=np.float32), axis=0)


@pytest.mark.parametrize("persistent", [False, True])
def test_training_lowers_reconstruction_error_and_raises_pseudo_likelihood(persistent):
    data = np.tile(bars_and_stripes(), (20, 1))
    pydl.manual_seed(1)
    rbm = RBM(16, persistent=persistent, optimizer=pydl.optimizers.SGD(0.1, momentum=0.5))
    hist = rbm.fit(data, epochs=30, batch_size=10, verbose=0)
    err = hist.history["reconstruction_error"]
    pl = hist.history["pseudo_likelihood"]
    assert len(err) == len(pl) == 30
    # an untrained RBM reconstructs every unit as ~0.5: error ~0.25; a trained one far better
    assert err[0] > 0.15 and err[-1] < 0.6 * err[0], err
    assert np.mean(pl[-5:]) > np.mean(pl[:3]) + 1.0, pl
    if persistent:
        assert rbm._chain is not None and rbm._chain.shape[1] == 16


def test_same_seed_same_rbm():
    data = np.tile(bars_and_stripes(), (5, 1))
    weights = []
    for _ in range(2):
        pydl.manual_seed(9)
        rbm = RBM(8)
        rbm.fit(data, epochs=3, batch_size=16, verbose=0)
        weights.append(rbm.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_pseudo_likelihood_of_a_single_unit_matches_sklearn():
    sk = pytest.importorskip("sklearn.neural_network")
    rng = np.random.default_rng(0)
    w, vb, hb = rng.normal(0, 1, (1, 3)), rng.normal(0, 1, 1), rng.normal(0, 1, 3)
    x = np.array([[0.0], [1.0], [1.0]])
    rbm = RBM(3, dtype="float64")
    rbm.set_weights([w, hb, vb])
    ref = sk.BernoulliRBM(n_components=3)
    ref.components_, ref.intercept_hidden_, ref.intercept_visible_ = w.T.copy(), hb.copy(), vb.copy()
    ref.random_state = 0
    ref.h_samples_ = np.zeros((1, 3))
    # with one visible unit the flipped unit is always that unit: no randomness left
    np.testing.assert_allclose(rbm.pseudo_likelihood(x), ref.score_samples(x), rtol=1e-12)


def test_transform_reconstruct_and_unrolled_autoencoder_agree_with_the_rbms():
    pydl.manual_seed(2)
    data = np.tile(bars_and_stripes(), (4, 1))
    rbms = pretrain_stack(data, [12, 6], epochs=3, batch_size=16, verbose=0)
    assert [r.units for r in rbms] == [12, 6] and rbms[1].n_visible == 12
    ae = unroll(rbms)
    encoder, decoder = ae.layers
    code = rbms[1].transform(rbms[0].transform(data))
    np.testing.assert_allclose(encoder.predict(data, verbose=0), code, rtol=1e-5, atol=1e-6)
    # the decoder runs the stack downwards with the mean-field conditionals p(v|h)
    w1, _, b1 = rbms[0].get_weights()
    w2, _, b2 = rbms[1].get_weights()
    down = sigmoid(sigmoid(code @ w2.T + b2) @ w1.T + b1)
    np.testing.assert_allclose(decoder.predict(code, verbose=0), down, rtol=1e-4, atol=1e-5)
    # and it fine-tunes with backprop
    ae.compile("adam", "binary_crossentropy")
    h = ae.fit(data, data, epochs=5, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_save_and_load(tmp_path):
    pydl.manual_seed(4)
    rbm = RBM(5, k=2, persistent=True)
    rbm.fit(bars_and_stripes(), epochs=2, batch_size=8, verbose=0)
    rbm.save(tmp_path / "r.rbm")
    back = RBM.load(tmp_path / "r.rbm")
    assert back.get_config() == rbm.get_config()
    for a, b in zip(rbm.get_weights(), back.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.transform(bars_and_stripes()), rbm.transform(bars_and_stripes()))
    (tmp_path / "bad").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a pydl RBM file"):
        RBM.load(tmp_path / "bad")


def test_bad_input_is_refused_before_any_weight_changes():
    rbm = RBM(4)
    with pytest.raises(RuntimeError, match="not trained yet"):
        rbm.transform(np.zeros((2, 3)))
    rbm.fit(bars_and_stripes(), epochs=1, batch_size=8, verbose=0)
    before = rbm.get_weights()
    with pytest.raises(ValueError, match=r"\[0, 1\].*255"):
        rbm.fit(bars_and_stripes() * 255, epochs=1, verbose=0)
    bad = bars_and_stripes().copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="nan"):
        rbm.fit(bad, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="16 visible units, got samples of 9"):
        rbm.transform(np.zeros((2, 9)))
    for a, b in zip(before, rbm.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="units must be a positive int"):
        RBM(0)
    with pytest.raises(ValueError, match="k must be"):
        RBM(3, k=0)
    with pytest.raises(TypeError, match="optimizer must be a pydl optimizer"):
        RBM(3, optimizer="sgd")


def test_ops_name_the_shapes_in_their_errors():
    w, vb, hb = t64(np.zeros((4, 3))), t64(np.zeros(4)), t64(np.zeros(3))
    with pytest.raises(ValueError, match=r"rbm_hidden: the visible batch must be \(batch, 4\).*\(4, 3\).*\(2, 5\)"):
        _C.rbm_hidden(t64(np.zeros((2, 5))), w, hb)
    with pytest.raises(ValueError, match=r"rbm_cd: the visible bias must be \(4,\)"):
        _C.rbm_cd(t64(np.zeros((2, 4))), w, hb, hb, 1, None)
    with pytest.raises(ValueError, match="rbm_cd: k"):
        _C.rbm_cd(t64(np.zeros((2, 4))), w, vb, hb, 0, None)
    with pytest.raises(ValueError, match="rbm_cd: the batch is empty"):
        _C.rbm_cd(t64(np.zeros((0, 4))), w, vb, hb, 1, None)
    with pytest.raises(ValueError, match="persistent chain must have the batch's shape"):
        _C.rbm_cd(t64(np.zeros((2, 4))), w, vb, hb, 1, t64(np.zeros((3, 4))))
    with pytest.raises(ValueError, match=r"rbm_visible: the hidden units must be in \[0, 1\]"):
        _C.rbm_visible(t64(np.full((2, 3), 2.0)), w, vb)
    with pytest.raises(TypeError, match="dtype mismatch"):
        _C.rbm_free_energy(pydl.zeros(2, 4), w, vb, hb)
