"""scikit-learn estimators around pydl models (deck 002: K-fold, grid and random search).

``PydlClassifier`` and ``PydlRegressor`` make a pydl network a scikit-learn citizen, so
``clone``, ``Pipeline``, ``cross_val_score``, ``KFold``/``StratifiedKFold``, ``GridSearchCV``,
``RandomizedSearchCV``, ``learning_curve`` and ``validation_curve`` work on it unchanged (with
``n_jobs=1``: pydl's C++ core already uses the cores through OpenMP).

``model`` is a function returning a pydl model (called afresh on every ``fit``), or a pydl model,
cloned with new weights by ``pydl.models.clone_model`` on every ``fit`` (the given model itself is
never trained). The build function gets, by name, any of its parameters that the estimator knows:

* ``model__NAME`` parameters (and bare extra keyword arguments the function names), as scikeras
  routes them: ``PydlClassifier(build, model__units=32)``; grid over ``{"model__units": [8, 32]}``;
* ``n_features_in_`` (columns of X), and for a classifier ``n_classes_``, for a regressor
  ``n_outputs_``: so one function fits data of any width.

Other routed parameters (all reachable by ``get_params``/``set_params``, hence by a search):
``fit__NAME`` to ``Model.fit`` (``fit__validation_split``, ``fit__shuffle`` ...), ``predict__NAME``
to ``Model.predict``, ``compile__NAME`` to ``Model.compile``, ``optimizer__NAME`` to the
optimizer's constructor (``optimizer__learning_rate=0.01``), ``loss__NAME`` to the loss's
(``loss__label_smoothing``). Named parameters: ``loss`` (None: the model's own compile when the
build function compiled it, else a default: 'mse' for a regressor; for a classifier
'binary_crossentropy' when the model ends in one unit, else 'sparse_categorical_crossentropy'),
``optimizer`` (None: the model's own when it came compiled, else 'rmsprop', Keras's compile
default; a name, class or instance, deep-copied per fit), ``metrics``, ``epochs``, ``batch_size``, ``verbose``, ``random_state`` (an int: the seed
given to ``pydl.manual_seed`` before building and training, so the same seed gives the same
weights, shuffles and scores, which is what makes a search repeatable; it sets pydl's one global
generator, as ``manual_seed`` does; None leaves the generator alone), ``warm_start`` (True: a
second ``fit`` continues training the fitted model instead of building a new one).

Labels: a classifier accepts any labels scikit-learn does (strings, integers); ``classes_`` holds
them sorted, and the network sees their indices 0..k-1, as integers for a sparse crossentropy, one
column of 0/1 for a one-unit sigmoid model, one-hot rows for 'categorical_crossentropy' (or
binary crossentropy over k units). ``predict_proba`` needs probabilities from the model (a softmax
or sigmoid last layer): other outputs raise rather than be read as probabilities.

``fit(X, y, sample_weight=None)``: one weight per row, multiplying that row's loss (Model.fit's
``sample_weight``); ``fit__sample_weight`` as well is an error.

scikit-learn's ``check_estimator`` (sklearn.utils.estimator_checks, scikit-learn 1.9) on both
estimators (tests/test_wrappers.py runs every check on a one-hidden-layer network trained 60
epochs with learning rate 0.01, and asserts that none fails but the expected one):

* expected to fail, ``EXPECTED_FAILED_CHECKS``: ``check_sample_weight_equivalence_on_dense_data``
  (a row of weight 2 trains exactly as the row repeated twice): minibatch gradient descent does
  not have this property: the repeated row lands in another batch, and the loss is the mean over
  the batch's rows, so the steps differ (scikit-learn's own SGD estimators are marked the same way);
* skipped by scikit-learn itself for the environment, ``SKIPPED_CHECKS``:
  ``check_array_api_input`` (runs only with SCIPY_ARRAY_API=1), ``check_sample_weights_pandas_series``,
  ``check_classifier_data_not_an_array`` and ``check_regressor_data_not_an_array`` (need pandas,
  not a pydl dependency; they run where pandas is installed).
"""
import copy
import inspect
import numbers

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d, validate_data
except ImportError as e:  # scikit-learn is an optional extra
    raise ImportError("pydl.wrappers needs scikit-learn >= 1.6: pip install scikit-learn "
                      f"(or pydl's [datasets] extra); {e}") from e

from . import losses as _losses, optimizers as _optimizers
from ._C import manual_seed as _manual_seed
from .models import Model, clone_model

__all__ = ["PydlClassifier", "PydlRegressor"]

_ROUTES = ("model", "fit", "predict", "compile", "optimizer", "loss")

# check name -> why it fails by design (given to check_estimator's expected_failed_checks)
EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data":
        "minibatch training: a row of weight 2 is not the same step as the row repeated in another batch",
}

# check name -> why scikit-learn skips it here (tests/test_wrappers.py asserts that no other is skipped)
SKIPPED_CHECKS = {
    "check_array_api_input": "runs only with SCIPY_ARRAY_API=1; pydl takes NumPy arrays",
    "check_sample_weights_pandas_series": "needs pandas, not a pydl dependency",
    "check_classifier_data_not_an_array": "needs pandas, not a pydl dependency",
    "check_regressor_data_not_an_array": "needs pandas, not a pydl dependency",
}


def _accepts(fn, name):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return True
    return name in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


class _PydlWrapper(BaseEstimator):

    def __init__(self, model=None, *, loss=None, optimizer=None, metrics=None, epochs=1, batch_size=32,
                 verbose=0, random_state=None, warm_start=False, **kwargs):
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.metrics = metrics
        self.epochs = epochs
        self.batch_size = batch_size
        self.verbose = verbose
        self.random_state = random_state
        self.warm_start = warm_start
        # routed / extra parameters live in one private dict (get_params reports them; an
        # attribute per name would look to scikit-learn like state set in __init__)
        self._extra = dict(kwargs)

    # ------------------------------------------------------------ parameters (scikeras routing)
    def get_params(self, deep=True):
        params = super().get_params(deep=False)
        params.update(getattr(self, "_extra", {}))
        return params

    def set_params(self, **params):
        known = set(self._get_param_names())
        for k, v in params.items():
            if k in known:
                setattr(self, k, v)
            else:
                self._extra[k] = v
        return self

    def _routed(self, route):
        pre = route + "__"
        return {k[len(pre):]: v for k, v in self._extra.items() if k.startswith(pre)}

    def _bare_extra(self):
        return {k: v for k, v in self._extra.items() if "__" not in k}

    def _check_routes(self):
        for k in self._extra:
            if "__" in k and k.split("__", 1)[0] not in _ROUTES:
                raise ValueError(f"{type(self).__name__}: parameter '{k}' has an unknown prefix; routed "
                                 f"parameters start with one of {', '.join(r + '__' for r in _ROUTES)}")

    # ------------------------------------------------------------ building and compiling
    def _meta(self):
        return {"n_features_in_": self.n_features_in_}

    def _seed(self):
        rs = self.random_state
        if rs is None:
            return None
        if isinstance(rs, np.random.RandomState):
            return int(rs.randint(0, 2 ** 31 - 1))
        if isinstance(rs, numbers.Integral) and not isinstance(rs, bool):
            return int(rs)
        raise TypeError(f"{type(self).__name__}: random_state must be None, an int or a "
                        f"numpy.random.RandomState, got {type(rs).__name__}")

    def _build_model(self):
        name = type(self).__name__
        if self.model is None:
            raise ValueError(f"{name}: no model: give a function that builds a pydl model (or a pydl model "
                             f"to clone) as {name}(model=...)")
        self._check_routes()
        model_kw = self._routed("model")
        if isinstance(self.model, Model):
            if model_kw or self._bare_extra():
                raise ValueError(f"{name}: model__* / extra parameters {sorted(model_kw) + sorted(self._bare_extra())} "
                                 "need a build function; a given model is cloned as it is")
            net = clone_model(self.model)
            source = self.model
        elif callable(self.model):
            fn = self.model
            for k in list(self._bare_extra()):
                if not _accepts(fn, k):
                    raise TypeError(f"{name}: parameter '{k}' is not a parameter of the build function "
                                    f"{getattr(fn, '__name__', fn)!r} (route it with a prefix: "
                                    f"{', '.join(r + '__' for r in _ROUTES)})")
            kw = {**self._bare_extra(), **model_kw}
            for k in model_kw:
                if not _accepts(fn, k):
                    raise TypeError(f"{name}: model__{k}: the build function {getattr(fn, '__name__', fn)!r} "
                                    f"takes no parameter '{k}'")
            for k, v in self._meta().items():
                if k not in kw and _accepts(fn, k) and k in inspect.signature(fn).parameters:
                    kw[k] = v
            net = fn(**kw)
            source = net
            if not isinstance(net, Model):
                raise TypeError(f"{name}: the build function returned {type(net).__name__}, not a pydl model")
        else:
            raise TypeError(f"{name}: model must be a function building a pydl model or a pydl model, "
                            f"got {type(self.model).__name__}")
        if not net.built:  # a Sequential without an input shape: the data's width decides it
            net.build((self.n_features_in_,))
        self._compile(net, source)
        return net

    def _default_loss(self, net):
        raise NotImplementedError

    def _compile(self, net, source):
        """Compile ``net``: the wrapper's loss / optimizer where given, else those of ``source``
        (the given or built model) when it came compiled, else the defaults."""
        name = type(self).__name__
        opt_kw = self._routed("optimizer")
        loss_kw = self._routed("loss")
        compile_kw = self._routed("compile")
        precompiled = source.loss is not None and source.optimizer is not None
        if (self.loss is None and self.optimizer is None and precompiled and source is net
                and not (opt_kw or loss_kw or compile_kw or self.metrics)):
            self._loss_obj = net.loss  # the build function compiled a fresh model: keep it
            return
        if precompiled and (isinstance(source.loss, list) or isinstance(source.loss, dict)):
            raise ValueError(f"{name}: the model has several outputs; the estimator needs one")
        loss = self.loss if self.loss is not None else (source.loss if precompiled else self._default_loss(net))
        loss = _losses.get(loss if isinstance(loss, str) else copy.deepcopy(loss))
        if loss_kw:
            if not isinstance(loss, _losses.Loss) or isinstance(loss, _losses.LossFunctionWrapper):
                raise ValueError(f"{name}: loss__* parameters {sorted(loss_kw)} need a loss class or name, got {self.loss!r}")
            loss = type(loss).from_config({**loss.get_config(), **loss_kw})
        opt = self.optimizer
        if opt is None and precompiled:  # a fresh copy of the model's own optimizer
            opt = type(source.optimizer).from_config({**source.optimizer.get_config(), **opt_kw})
            opt_kw = {}
        elif opt is None:
            opt = "rmsprop"  # Keras's compile default
        if isinstance(opt, str):
            opt = type(_optimizers.get(opt))(**opt_kw)
        elif isinstance(opt, type) and issubclass(opt, _optimizers.Optimizer):
            opt = opt(**opt_kw)
        elif isinstance(opt, _optimizers.Optimizer):
            if opt is self.optimizer:
                if opt_kw:
                    raise ValueError(f"{name}: optimizer__* parameters {sorted(opt_kw)} need an optimizer name "
                                     f"or class, got an instance {opt!r}")
                opt = copy.deepcopy(opt)  # every fit starts from the optimizer's initial state
        else:
            raise TypeError(f"{name}: optimizer must be None, a name, an Optimizer class or instance, got "
                            f"{type(opt).__name__}")
        self._loss_obj = loss
        net.compile(optimizer=opt, loss=loss, metrics=copy.deepcopy(self.metrics), **compile_kw)

    # ------------------------------------------------------------ fit / predict
    def _validate_X(self, X, reset):
        return validate_data(self, X, reset=reset, dtype=[np.float32, np.float64], ensure_min_samples=1)

    def _train(self, X, target, partial=False, sample_weight=None):
        """Model.fit on (X, target): ``epochs`` (``fit__epochs`` wins when given), one for
        partial_fit; ``sample_weight`` (one weight per row) multiplies each row's loss, as in
        Model.fit; the epochs' logs are appended to ``history_``."""
        fit_kw = {"batch_size": self.batch_size, "epochs": self.epochs, "verbose": self.verbose,
                  **self._routed("fit")}
        if partial:
            fit_kw["epochs"] = 1
        if sample_weight is not None:
            if "sample_weight" in fit_kw:
                raise ValueError(f"{type(self).__name__}: sample_weight given both to fit and as fit__sample_weight")
            fit_kw["sample_weight"] = _check_sample_weight(sample_weight, X, dtype=np.float32, ensure_non_negative=True)
        hist = self.model_.fit(np.ascontiguousarray(X, dtype=np.float32), target, **fit_kw)
        for k, v in getattr(hist, "history", {}).items():
            self.history_.setdefault(k, []).extend(v)
        return self

    def _predict_raw(self, X):
        check_is_fitted(self, "model_")
        X = self._validate_X(X, reset=False)
        out = self.model_.predict(np.ascontiguousarray(X, dtype=np.float32),
                                  **{"verbose": 0, "batch_size": self.batch_size, **self._routed("predict")})
        if isinstance(out, list):
            raise ValueError(f"{type(self).__name__}: the model has {len(out)} outputs; the estimator needs one")
        return np.asarray(out, dtype=np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


def _loss_name(loss):
    return _losses.canonical_name(loss) if loss is not None else None


class PydlClassifier(ClassifierMixin, _PydlWrapper):
    """A pydl network as a scikit-learn classifier (see the module docstring)."""

    def _meta(self):
        return {"n_features_in_": self.n_features_in_, "n_classes_": self.n_classes_}

    def _default_loss(self, net):
        width = self._output_width(net)
        return "binary_crossentropy" if width == 1 else "sparse_categorical_crossentropy"

    @staticmethod
    def _output_width(net):
        try:
            out = net.output_shape
        except (AttributeError, ValueError):  # not built / no single output: the loss decides
            out = None
        if out is None or isinstance(out, list):
            return None
        return out[-1]

    def _encode(self, y):
        """y's class indices shaped for the loss: one 0/1 column, one-hot rows, or int64 indices."""
        idx = self._label_encoder.transform(y)
        name = _loss_name(self._loss_obj)
        width = self._output_width(self.model_)
        k = len(self.classes_)
        if width is not None and width not in (k, 1) or (width == 1 and k > 2):
            raise ValueError(f"{type(self).__name__}: the model ends in {width} units but y has {k} classes "
                             f"({list(self.classes_)}): give one unit per class (or one sigmoid unit for two)")
        if width == 1:
            if name in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
                raise ValueError(f"{type(self).__name__}: loss {name} over a model ending in one unit is a softmax "
                                 "over one class (always 1): use binary_crossentropy with a sigmoid unit, or one "
                                 "unit per class")
            return idx.astype(np.float32).reshape(-1, 1)
        if name in ("categorical_crossentropy", "binary_crossentropy", "mean_squared_error"):
            return np.eye(k, dtype=np.float32)[idx]
        return idx.astype(np.int64)

    def _check_y(self, y):
        if y is None:
            raise ValueError(f"{type(self).__name__}: requires y to be passed, but the target y is None (fit needs the labels)")
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim != 1:
            raise ValueError(f"{type(self).__name__}: y must be 1-D labels, got shape {y.shape} "
                             "(multi-label / multi-output targets are not supported)")
        check_classification_targets(y)
        return y

    def fit(self, X, y, sample_weight=None):
        """Build (or, with warm_start and a fitted model, keep) the network and train it ``epochs``."""
        reuse = self.warm_start and hasattr(self, "model_")
        X = self._validate_X(X, reset=not reuse)
        y = self._check_y(y)
        if len(y) != X.shape[0]:
            raise ValueError(f"{type(self).__name__}.fit: X has {X.shape[0]} rows but y has {len(y)}")
        if not reuse:
            self.__dict__.pop("model_", None)  # a failed rebuild must not leave the old network
            self._label_encoder = LabelEncoder().fit(y)
            self.classes_ = self._label_encoder.classes_
            self.n_classes_ = len(self.classes_)
        elif not np.isin(y, self.classes_).all():
            raise ValueError(f"{type(self).__name__}.fit (warm_start): y has labels outside classes_ {list(self.classes_)}")
        seed = self._seed()
        if seed is not None:
            _manual_seed(seed)
        if not reuse:
            self.model_ = self._build_model()
            self.history_ = {}
        return self._train(X, self._encode(y), sample_weight=sample_weight)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch on (X, y), building the network on the first call; ``classes`` (all labels)
        is needed on the first call when this batch may not show every class."""
        first = not hasattr(self, "model_")
        X = self._validate_X(X, reset=first)
        y = self._check_y(y)
        if first:
            labels = np.unique(y) if classes is None else np.asarray(classes)
            self._label_encoder = LabelEncoder().fit(labels)
            self.classes_ = self._label_encoder.classes_
            self.n_classes_ = len(self.classes_)
        elif classes is not None and not np.array_equal(np.sort(np.asarray(classes)), self.classes_):
            raise ValueError(f"{type(self).__name__}.partial_fit: classes {list(classes)} differ from the first "
                             f"call's {list(self.classes_)}")
        if not np.isin(y, self.classes_).all():
            raise ValueError(f"{type(self).__name__}.partial_fit: y has labels outside classes "
                             f"{list(self.classes_)}: give every label in classes= on the first call")
        if first:
            seed = self._seed()
            if seed is not None:
                _manual_seed(seed)
            self.model_ = self._build_model()
            self.history_ = {}
        return self._train(X, self._encode(y), partial=True, sample_weight=sample_weight)

    def predict_proba(self, X):
        """(n, n_classes) probabilities from the model's sigmoid / softmax output."""
        p = self._predict_raw(X)
        if p.ndim == 1:
            p = p.reshape(-1, 1)
        if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1:
            raise ValueError(f"{type(self).__name__}.predict_proba: the model's outputs (range "
                             f"[{np.nanmin(p):.3g}, {np.nanmax(p):.3g}]) are not probabilities: end the model in "
                             "a softmax (or one sigmoid unit for two classes)")
        if p.shape[1] == 1:
            p = np.hstack([1.0 - p, p])
        if p.shape[1] != self.n_classes_:
            raise ValueError(f"{type(self).__name__}.predict_proba: the model gives {p.shape[1]} columns for "
                             f"{self.n_classes_} classes")
        if self.n_classes_ > 1:
            s = p.sum(axis=1, keepdims=True)
            if not np.allclose(s, 1.0, atol=1e-3):
                raise ValueError(f"{type(self).__name__}.predict_proba: rows of the model's outputs sum to "
                                 f"[{s.min():.3g}, {s.max():.3g}], not 1: end the model in a softmax")
        return p

    def predict(self, X):
        """The most probable class of each row, as one of ``classes_``."""
        p = self._predict_raw(X)
        if p.ndim == 1 or p.shape[1] == 1:
            idx = (p.reshape(-1) > 0.5).astype(np.int64)
            if self.n_classes_ == 1:
                idx[:] = 0
        else:
            idx = np.argmax(p, axis=1)
        return self.classes_[idx]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class PydlRegressor(RegressorMixin, _PydlWrapper):
    """A pydl network as a scikit-learn regressor (see the module docstring); ``score`` is R^2."""

    def _meta(self):
        return {"n_features_in_": self.n_features_in_, "n_outputs_": self.n_outputs_}

    def _default_loss(self, net):
        return "mse"

    def _check_y(self, X, y):
        if y is None:
            raise ValueError(f"{type(self).__name__}: requires y to be passed, but the target y is None (fit needs the targets)")
        y = np.asarray(y, dtype=np.float64) if not np.issubdtype(np.asarray(y).dtype, np.floating) else np.asarray(y)
        if y.ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__}: y must be 1-D or 2-D, got shape {y.shape}")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"{type(self).__name__}.fit: X has {X.shape[0]} rows but y has {y.shape[0]}")
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{type(self).__name__}.fit: y contains NaN or infinity")
        return y

    def _target(self, y):
        return np.ascontiguousarray(y.reshape(len(y), -1), dtype=np.float32)

    def fit(self, X, y, sample_weight=None):
        """Build (or, with warm_start and a fitted model, keep) the network and train it ``epochs``."""
        reuse = self.warm_start and hasattr(self, "model_")
        X = self._validate_X(X, reset=not reuse)
        y = self._check_y(X, y)
        if reuse and (y.ndim == 1) != self._y_1d:
            raise ValueError(f"{type(self).__name__}.fit (warm_start): y's shape {y.shape} differs from the first fit's")
        if not reuse:
            self.__dict__.pop("model_", None)
            self._y_1d = y.ndim == 1
            self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
            seed = self._seed()
            if seed is not None:
                _manual_seed(seed)
            self.model_ = self._build_model()
            self.history_ = {}
        return self._train(X, self._target(y), sample_weight=sample_weight)


    def partial_fit(self, X, y, sample_weight=None):
        """One epoch on (X, y), building the network on the first call."""
        first = not hasattr(self, "model_")
        X = self._validate_X(X, reset=first)
        y = self._check_y(X, y)
        if first:
            self._y_1d = y.ndim == 1
            self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
            seed = self._seed()
            if seed is not None:
                _manual_seed(seed)
            self.model_ = self._build_model()
            self.history_ = {}
        return self._train(X, self._target(y), partial=True, sample_weight=sample_weight)

    def predict(self, X):
        p = self._predict_raw(X)
        p = p.reshape(p.shape[0], -1)
        return p[:, 0] if self._y_1d and p.shape[1] == 1 else p

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # y of shape (n, k): a model ending in k units
        return tags

    @property
    def predict_proba(self):
        """Raises AttributeError (so hasattr is False, as for scikit-learn's regressors)."""
        raise AttributeError(f"{type(self).__name__} has no predict_proba: a regressor predicts values, "
                             "not class probabilities (use PydlClassifier)")
