"""Gradient checking: analytic gradients (backward) against central differences.

    d f / d x_i  ~  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

Run in float64: in float32 the rounding error of f swamps the difference for any useful eps.
"""
import numpy as np

from .. import _C
from ..autograd import no_grad


class GradcheckResult:
    """The outcome per input: worst absolute and relative error, and whether all passed."""

    def __init__(self, names, abs_errors, rel_errors, passed_each):
        self.names = names
        self.max_abs_errors = abs_errors
        self.max_rel_errors = rel_errors
        self.passed_each = passed_each
        self.passed = all(passed_each)

    def __bool__(self):
        return self.passed

    def __repr__(self):
        rows = [f"  {n:<8} max abs err {a:.3e}  max rel err {r:.3e}  {'ok' if p else 'FAIL'}"
                for n, a, r, p in zip(self.names, self.max_abs_errors, self.max_rel_errors, self.passed_each)]
        return "GradcheckResult(" + ("passed" if self.passed else "FAILED") + "\n" + "\n".join(rows) + "\n)"


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Compare ``fn``'s analytic gradients with central differences.

    fn:      takes the tensors in ``inputs`` and returns a tensor (any shape; a non-scalar
             output is reduced with a fixed random weighting, so every output element counts).
    inputs:  tensors; those with ``requires_grad`` are checked. Use float64.
    Passes where |analytic - numeric| <= atol + rtol * |numeric| for every element.
    Returns a GradcheckResult (truthy when it passed) listing the worst errors per input.
    """
    inputs = list(inputs)
    for x in inputs:
        if not isinstance(x, _C.Tensor):
            raise TypeError(f"gradcheck: inputs must be pydl tensors, got {type(x).__name__}")
    checked = [i for i, x in enumerate(inputs) if x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in checked:
        if inputs[i].dtype != _C.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 "
                            "(float32 rounding hides the finite differences)")
        if not inputs[i].is_leaf:
            raise ValueError(f"gradcheck: input {i} must be a leaf tensor")

    out = fn(*inputs)
    weights = np.random.default_rng(seed).standard_normal(tuple(out.shape))

    def scalar_of(o):
        return float(np.sum(np.asarray(o.detach().numpy(), dtype=np.float64) * weights))

    # analytic: backward of sum(out * weights)
    saved = [inputs[i].grad for i in checked]
    for i in checked:
        inputs[i].grad = None
    out.backward(_C.from_numpy(weights.astype(np.float64)) if out.dtype == _C.float64
                 else _C.tensor(weights, dtype=out.dtype))
    analytic = [None if inputs[i].grad is None else inputs[i].grad.numpy().copy() for i in checked]
    for i, g in zip(checked, saved):
        inputs[i].grad = g

    names, abs_errs, rel_errs, oks = [], [], [], []
    with no_grad():
        for k, i in enumerate(checked):
            x = inputs[i].detach().numpy()  # a view: perturbing it perturbs the tensor
            numeric = np.zeros(x.shape)
            it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
            for _ in it:
                idx = it.multi_index
                orig = x[idx]
                x[idx] = orig + eps
                fp = scalar_of(fn(*inputs))
                x[idx] = orig - eps
                fm = scalar_of(fn(*inputs))
                x[idx] = orig
                numeric[idx] = (fp - fm) / (2 * eps)
            a = analytic[k] if analytic[k] is not None else np.zeros(x.shape)
            diff = np.abs(a - numeric)
            names.append(f"input {i}")
            abs_errs.append(float(diff.max()) if diff.size else 0.0)
            rel_errs.append(float((diff / (np.abs(numeric) + atol)).max()) if diff.size else 0.0)
            oks.append(bool(np.all(diff <= atol + rtol * np.abs(numeric))))
    return GradcheckResult(names, abs_errs, rel_errs, oks)
