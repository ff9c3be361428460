"""The Layer base class, shaped like Keras's: weights are created in ``build(input_shape)``
on the first call (so a layer needs no input size up front), the maths lives in
``call(x, training)``, and ``get_config()`` describes the layer so saving needs no code.
"""
import functools
import inspect
import numbers
import warnings

import numpy as np

from .. import _C
from .. import initializers as _init
from .. import regularizers as _reg

_name_counts = {}


def _unique_name(base):
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def keras1_names(**aliases):
    """Let ``__init__`` (or ``fit``) take Keras 1 argument names, ``old="new"``: the old name
    still works with a DeprecationWarning, and giving both names at once raises TypeError
    (the old value must not silently win or lose)."""
    def wrap(fn):
        positional = [n for n, p in inspect.signature(fn).parameters.items()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        parts = fn.__qualname__.split(".")
        owner = parts[-2] if parts[-1] == "__init__" and len(parts) > 1 else parts[-1]  # 'Dense', 'fit'

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for old, new in aliases.items():
                if old not in kwargs:
                    continue
                given_positionally = new in positional and positional.index(new) < len(args)
                if new in kwargs or given_positionally:
                    raise TypeError(f"{owner}: got both '{old}' (the Keras 1 name) and '{new}'; "
                                    f"give only '{new}'")
                warnings.warn(f"{owner}: '{old}' is the Keras 1 name; use '{new}'", DeprecationWarning,
                              stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)
        return wrapper
    return wrap


def _shape_arg(owner, what, shape):
    """A sample shape given as an int (784) or a sequence of ints ((28, 28)), as a tuple."""
    if isinstance(shape, (bool, np.bool_)) or not isinstance(shape, (numbers.Integral, tuple, list)):
        raise TypeError(f"{owner}: {what} must be an int or a tuple of ints, got {shape!r}")
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    for d in shape:
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, numbers.Integral):
            raise TypeError(f"{owner}: {what} must be an int or a tuple of ints, got {shape!r}")
        if d < 1:
            raise ValueError(f"{owner}: every size in {what} must be positive, got {shape!r}")
    return tuple(int(d) for d in shape)


def _dtype_arg(owner, dtype):
    """The layer dtype: None means float32; float32/float64 by name, pydl or NumPy dtype."""
    if dtype is None:
        return _C.float32
    if isinstance(dtype, _C.dtype):
        name = dtype.name
    elif isinstance(dtype, str):
        name = dtype.replace("pydl.", "")
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = getattr(dtype, "name", str(dtype))
    if name == "float32":
        return _C.float32
    if name == "float64":
        return _C.float64
    raise ValueError(f"{owner}: dtype must be 'float32' or 'float64', got {dtype!r}")


def assign_weights(owner, weights, values):
    """Copy arrays into weight tensors, checking every count and shape before changing any, so
    a mismatch leaves all weights as they were."""
    if len(values) != len(weights):
        raise ValueError(f"{owner}.set_weights: expected {len(weights)} arrays, got {len(values)}")
    for w, v in zip(weights, values):
        if tuple(np.shape(v)) != tuple(w.shape):
            raise ValueError(f"{owner}.set_weights: weight {w.name} has shape {tuple(w.shape)}, "
                             f"got an array of shape {tuple(np.shape(v))}")
    from ..autograd import no_grad
    with no_grad():
        for w, v in zip(weights, values):
            w.copy_(_C.tensor(v.detach() if isinstance(v, _C.Tensor) else np.asarray(v), dtype=w.dtype))


def _is_shape_list(shape):
    """Whether ``shape`` is the list of sample shapes of a layer with several inputs (a merge
    layer): a list or tuple whose entries are themselves shapes, not ints."""
    return isinstance(shape, (list, tuple)) and len(shape) > 0 and all(isinstance(s, (list, tuple)) for s in shape)


class KerasTensor:
    """A symbolic tensor of the functional API: what ``pydl.Input(shape)`` returns and what a
    layer called on symbolic tensors returns. It holds no values, only the ``shape`` (the batch
    axis first, as None), the ``dtype`` and where it came from (``_keras_history``: the layer,
    which of the layer's calls (nodes) made it, and which of that call's outputs it is).
    ``Model(inputs, outputs)`` follows these records back from the outputs to build its graph."""

    def __init__(self, shape, dtype, layer, node_index, tensor_index=0):
        self.shape = tuple(shape)
        self.dtype = dtype
        self._keras_history = (layer, node_index, tensor_index)
        self._node = None  # the Node that made it (set with the Node)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def node(self):
        """The layer call (Node) that made this tensor. Held directly, not as an index into the
        layer's list of calls, which changes when a Sequential re-records its graph."""
        return self._node

    @property
    def name(self):
        layer, node_index, tensor_index = self._keras_history
        n = len(self._node.outputs) if self._node is not None else 1
        return layer.name if n == 1 and node_index == 0 else f"{layer.name}/{node_index}/{tensor_index}"

    def _symbolic_error(self, what):
        return TypeError(f"{what}: {self!r} is symbolic (a placeholder of the functional API, holding no "
                         "values); build a model with pydl.models.Model(inputs, outputs) and call it on data")

    def __array__(self, *args, **kwargs):
        raise self._symbolic_error("np.asarray")

    def numpy(self):
        raise self._symbolic_error("numpy()")

    def _merge(self, other, cls, op):
        if not isinstance(other, KerasTensor):
            raise TypeError(f"symbolic {op}: both operands must be symbolic tensors (KerasTensor), got "
                            f"{type(other).__name__}; use a layer (e.g. pydl.layers.Rescaling or Lambda) for constants")
        from .merge import Add, Subtract, Multiply
        return {"add": Add, "subtract": Subtract, "multiply": Multiply}[cls]()([self, other])

    def __add__(self, other):  # x + f(x): an Add layer, as in Keras 3
        return self._merge(other, "add", "+")

    def __sub__(self, other):
        return self._merge(other, "subtract", "-")

    def __mul__(self, other):
        return self._merge(other, "multiply", "*")

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype.name}, name={self.name}>"


class Node:
    """One call of a layer on symbolic tensors: the layer, its input tensors, its output tensors.
    ``single_input``: the layer was called on one tensor (not a list of them); ``training``: the
    ``training`` argument given at that call (None: the model's)."""

    def __init__(self, layer, inputs, outputs, single_input=True, training=None):
        self.layer = layer
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.single_input = single_input
        self.training = training
        for t in self.outputs:
            t._node = self

    @property
    def parents(self):
        return [t.node for t in self.inputs]


def _symbolic(x):
    """Whether ``x`` (a tensor or a list of them) is symbolic; a mix raises TypeError."""
    items = list(x) if isinstance(x, (list, tuple)) else [x]
    sym = [isinstance(t, KerasTensor) for t in items]
    if any(sym) and not all(sym):
        raise TypeError("a layer was called on a mix of symbolic tensors (from pydl.Input) and data; "
                        f"got {[type(t).__name__ for t in items]}")
    return bool(items) and all(sym)


def _loss_term(owner, loss):
    """``add_loss``'s argument checked: a scalar pydl tensor computed in this call."""
    if isinstance(loss, KerasTensor):
        raise NotImplementedError(f"{owner}.add_loss: a symbolic tensor cannot be added as a loss (pydl does not "
                                  "run ops on symbolic tensors); compute the term in a layer's call() and call "
                                  "self.add_loss(term) there, or override train_step")
    if not isinstance(loss, _C.Tensor):
        if callable(loss):
            raise TypeError(f"{owner}.add_loss: a callable loss (Keras 2's zero-argument form) is not supported; "
                            "give the tensor computed in call()")
        raise TypeError(f"{owner}.add_loss: expects a scalar pydl tensor, got {type(loss).__name__}")
    if loss.numel() != 1:
        raise ValueError(f"{owner}.add_loss: expects a scalar (reduce the term, e.g. .mean()), got shape "
                         f"{tuple(loss.shape)}")
    return loss.reshape(()) if loss.dim() else loss


# ---- masks (Keras's masking): which time steps of a sequence are real and which are padding.
# A mask is a NumPy bool array of the sequence's leading axes, (batch, time): True = a real step.
# It rides on the tensor it describes as ``tensor._keras_mask``, as in Keras; these two functions
# are the only places that read or write that attribute.

def get_mask(t):
    """The mask a tensor carries (a NumPy bool array), or None; for a list of tensors, the
    list of their masks (None if none of them has one)."""
    if isinstance(t, (list, tuple)):
        masks = [get_mask(x) for x in t]
        return masks if any(m is not None for m in masks) else None
    return getattr(t, "_keras_mask", None) if isinstance(t, _C.Tensor) else None


def set_mask(t, mask):
    """Attach ``mask`` (None, or anything NumPy reads as booleans) to tensor ``t`` (a list of
    masks to a list of tensors)."""
    if isinstance(t, (list, tuple)):
        masks = mask if isinstance(mask, (list, tuple)) else [mask] + [None] * (len(t) - 1)
        for x, m in zip(t, masks):
            set_mask(x, m)
        return
    if isinstance(t, _C.Tensor):
        t._keras_mask = None if mask is None else np.asarray(
            mask.detach().numpy() if isinstance(mask, _C.Tensor) else mask).astype(bool)


_CALL_TAKES_MASK = {}  # layer class -> whether its call has a mask parameter


def _mask_arg(owner, mask, x):
    """A mask given to a layer call (``layer(x, mask=m)``): booleans of x's leading axes."""
    if isinstance(mask, (list, tuple)):
        return [None if m is None else _mask_arg(owner, m, t) for m, t in zip(mask, x)]
    m = np.asarray(mask.detach().numpy() if isinstance(mask, _C.Tensor) else mask)
    shape = tuple(x.shape) if isinstance(x, _C.Tensor) else np.shape(x)
    if m.ndim < 1 or tuple(shape[:m.ndim]) != m.shape:
        raise ValueError(f"{owner}: mask of shape {m.shape} does not match the input of shape {tuple(shape)}; a "
                         "mask covers the input's leading axes, (batch, time) for a sequence")
    return m.astype(bool)


class Layer:
    """The base of every layer.

    ``trainable``: whether ``fit`` updates the layer's weights. As in Keras, ``compile`` fixes
    which weights a model's ``fit`` trains: after changing ``trainable`` call ``compile`` again
    (``fit`` warns if you did not). A layer shared by two models trains in the one compiled
    while it was trainable (the GAN recipe).
    ``dtype``: 'float32' (default) or 'float64'; the weights are created in it and floating
    inputs are cast to it (Keras's rule), so layers of different dtypes can be stacked.
    ``activity_regularizer``: a penalty on the layer's output (after its activation), added to
    the loss as Keras 3 adds it: ``activity_regularizer(output)``, summed over the batch (Keras 2
    divided it by the batch size; Keras 3 does not).
    Masks (Keras's): a layer that makes a mask (``Masking``, ``Embedding(mask_zero=True)``)
    gives it in ``compute_mask(inputs, mask)``; the mask rides on the output tensor to the next
    layer, whose ``call`` receives it as ``mask=`` when its signature has that parameter. A layer
    with ``supports_masking = True`` (or a ``mask`` parameter) accepts a mask; by default its
    output keeps the input's mask (``compute_mask`` returns it: a layer working per time step).
    A layer that does not accept one raises when a mask reaches it: Keras 3 drops the mask there
    silently and the padded steps then change the result.
    Called on symbolic tensors (``pydl.Input``; a list of them for a layer of several inputs,
    such as ``Add``) a layer builds for their shapes, records the call as a ``Node`` and returns
    symbolic outputs shaped by ``compute_output_shape``: the functional API. Its ``input`` and
    ``output`` are then those tensors (a layer called once); ``input_shape``/``output_shape``
    are set when it is built.
    """

    def __init__(self, name=None, trainable=True, input_shape=None, input_dim=None, batch_input_shape=None,
                 dtype=None, activity_regularizer=None, **kwargs):
        from .._registry import camel_to_snake
        cls = type(self).__name__
        if kwargs:
            raise TypeError(f"{cls}: unexpected arguments {sorted(kwargs)}")
        self.name = name or _unique_name(camel_to_snake(cls))
        self.trainable = trainable
        self.dtype = _dtype_arg(cls, dtype)
        self._dtype_given = dtype is not None
        self.activity_regularizer = _reg.get(activity_regularizer)
        shapes = []
        if input_shape is not None:
            shapes.append(("input_shape", _shape_arg(cls, "input_shape", input_shape)))
        if batch_input_shape is not None:
            if not isinstance(batch_input_shape, (tuple, list)) or len(batch_input_shape) < 2:
                raise TypeError(f"{cls}: batch_input_shape is (batch size or None, *sample shape), "
                                f"got {batch_input_shape!r}")
            shapes.append(("batch_input_shape", _shape_arg(cls, "batch_input_shape[1:]", batch_input_shape[1:])))
        if input_dim is not None:
            shapes.append(("input_dim", _shape_arg(cls, "input_dim", input_dim)))
        if len({s for _, s in shapes}) > 1:
            raise ValueError(f"{cls}: the sample shapes given disagree: "
                             + ", ".join(f"{n} -> {s}" for n, s in shapes))
        self._input_shape_arg = shapes[0][1] if shapes else None
        self.built = False
        self._params = []  # (name, tensor, regularizer)
        self._untrainable = set()  # names of weights created with trainable=False
        self.losses = []   # regularisation terms of the last call
        self.input_shape = None
        self.output_shape = None
        self._inbound_nodes = []  # one Node per call on symbolic tensors (functional API)

    @property
    def _casts_inputs(self):
        """Whether the layer computes in its dtype: it has weights, or its dtype was given. A
        layer without either (Activation, Dropout, Flatten, ...) keeps its input's dtype."""
        return self._dtype_given or bool(self._params) or type(self).build is not Layer.build

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)

    # ---- weights
    def add_weight(self, name, shape, initializer="zeros", regularizer=None, trainable=True):
        """A new weight. ``trainable=False`` makes it never trained (whatever ``self.trainable``)."""
        init = _init.get(initializer)
        values = np.asarray(init(tuple(shape), dtype=self.dtype.name), dtype=self.dtype.name)
        # A weight that may be trained records its gradient even while the layer is frozen, so
        # that unfreezing (trainable = True, then compile) needs nothing else.
        w = _C.tensor(values, dtype=self.dtype, requires_grad=bool(trainable))
        w.name = f"{self.name}/{name}"
        if not trainable:
            self._untrainable.add(w.name)
        self._params.append((name, w, _reg.get(regularizer)))
        return w

    @property
    def weights(self):
        return [w for _, w, _ in self._params]

    @property
    def trainable_weights(self):
        return self._weights_trainable_when(self.trainable)

    def _weights_trainable_when(self, trainable):
        """The weights that train when the layer's ``trainable`` is ``trainable``."""
        return [w for w in self.weights if w.name not in self._untrainable] if trainable else []

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    def get_weights(self):
        return [w.detach().numpy().copy() for w in self.weights]

    def set_weights(self, values):
        assign_weights(self.name, self.weights, values)

    def count_params(self):
        if not self.built:
            raise ValueError(f"{self.name}: not built yet, so its weights do not exist: give the first layer an "
                             "input_shape (or start with Input(shape=...)), or call the model on data")
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    def add_loss(self, loss):
        """Keras's ``add_loss``, called inside ``call``: a scalar tensor (a KL term, an activity
        penalty) added to the loss ``fit`` minimises for this call, and reported in its ``loss``
        as Keras reports it. The layer's ``losses`` hold the terms of its last call."""
        self.losses.append(_loss_term(self.name, loss))

    def regularization_losses(self):
        """The penalty terms of this layer's weights (a list of scalar tensors)."""
        return [r(w) for _, w, r in self._params if r is not None]

    # ---- the Keras protocol
    def build(self, input_shape):
        self.built = True

    def call(self, x, training=None):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return input_shape

    # ---- masks
    supports_masking = False  # a layer that passes a mask through (or uses it) sets True

    def compute_mask(self, inputs, mask=None):
        """The output's mask, from the inputs and their mask (Keras's): by default the input's
        mask, for a layer that supports masking (it works per time step), else None."""
        return mask if self._accepts_mask else None

    @property
    def _call_takes_mask(self):
        cls = type(self)
        if cls not in _CALL_TAKES_MASK:  # once per class: inspect is slow beside a layer call
            _CALL_TAKES_MASK[cls] = "mask" in inspect.signature(cls.call).parameters
        return _CALL_TAKES_MASK[cls]

    @property
    def _accepts_mask(self):
        return bool(self.supports_masking) or self._call_takes_mask

    def _makes_mask(self):
        """Whether compute_mask may give a mask without one coming in (Masking, Embedding)."""
        return type(self).compute_mask is not Layer.compute_mask

    def __call__(self, x, training=None, mask=None):
        if _symbolic(x):
            if mask is not None:
                raise TypeError(f"{self.name}: mask= is for calls on data; in a functional graph the masks come "
                                "from the layers that make them (Masking, Embedding(mask_zero=True))")
            return self._symbolic_call(x, training)
        if mask is None:
            return self._call(x, training)
        return self._call(x, training, mask=_mask_arg(self.name, mask, x))

    def _symbolic_call(self, x, training=None):
        """The functional API: build the layer for the symbolic inputs' shapes (or check them),
        record the call as a Node and return symbolic outputs of ``compute_output_shape``."""
        single = isinstance(x, KerasTensor)
        xs = [x] if single else list(x)
        shapes = [tuple(t.shape[1:]) for t in xs]
        shape = shapes[0] if single else shapes
        if not self.built:
            self._build_for(shape)
        else:
            self._check_input(shape)
        out_shape = self.compute_output_shape(shape)
        multi = _is_shape_list(out_shape)
        out_shapes = [tuple(s) for s in out_shape] if multi else [tuple(out_shape)]
        dtypes = self._symbolic_dtypes(xs, len(out_shapes))
        index = len(self._inbound_nodes)
        outs = [KerasTensor((None,) + s, d, self, index, i) for i, (s, d) in enumerate(zip(out_shapes, dtypes))]
        self._inbound_nodes.append(Node(self, xs, outs, single_input=single, training=training))
        return outs if multi else outs[0]

    def _symbolic_dtypes(self, inputs, n):
        """The dtypes of a symbolic call's ``n`` outputs: the layer's, or its input's for a layer
        that keeps its input's dtype."""
        return [self.dtype if self._casts_inputs else inputs[0].dtype] * n

    def _only_node(self, what):
        if not self._inbound_nodes:
            raise AttributeError(f"{self.name}: has no {what}: the layer has not been called on a symbolic tensor "
                                 "(x = pydl.Input(shape); y = layer(x)); eager calls on data record nothing")
        if len(self._inbound_nodes) > 1:
            raise AttributeError(f"{self.name}: has been called {len(self._inbound_nodes)} times on symbolic tensors "
                                 f"(it is shared), so its {what} is ambiguous; use the tensors those calls returned")
        return self._inbound_nodes[0]

    @property
    def input(self):
        """The symbolic input of the layer's one call in a functional graph (a list for a layer
        called on several tensors)."""
        node = self._only_node("input")
        return node.inputs[0] if node.single_input else list(node.inputs)

    @property
    def output(self):
        """The symbolic output of the layer's one call in a functional graph."""
        node = self._only_node("output")
        return node.outputs[0] if len(node.outputs) == 1 else list(node.outputs)

    def _call(self, x, training=None, logits=False, mask=None):
        """What ``__call__`` does: cast, build or check, ``call``, record the activity penalty,
        pass the mask on. ``logits=True`` (for a model's fused softmax/sigmoid + crossentropy)
        returns the output before the activation; the penalty is still taken after it.
        ``mask``: the input's mask, else the one the input tensor(s) carry."""
        if mask is None:
            mask = get_mask(x)  # before any cast, which makes a new tensor
        if mask is not None and not self._accepts_mask:
            shapes = [None if m is None else m.shape for m in mask] if isinstance(mask, list) else mask.shape
            raise ValueError(f"{self.name}: {type(self).__name__} does not support masking, but its input carries a "
                             f"mask of shape {shapes} (from Embedding(mask_zero=True) or Masking upstream). Keras "
                             "would drop the mask here silently and the padded steps would change the result; "
                             "consume the mask first (a recurrent layer without return_sequences, "
                             "GlobalAveragePooling1D) or remove it")
        if isinstance(x, (list, tuple)):  # a layer of several inputs (merge layers)
            x = [t if isinstance(t, _C.Tensor) else _C.tensor(np.asarray(t), dtype=self.dtype) for t in x]
            shape = [tuple(t.shape)[1:] for t in x]
        else:
            if not isinstance(x, _C.Tensor):
                x = _C.tensor(np.asarray(x), dtype=self.dtype)
            shape = tuple(x.shape)[1:]
        if not self.built:
            self._build_for(shape)
        else:
            self._check_input(shape)
        if isinstance(x, list):
            x = [self._cast_input(t) for t in x]
        else:
            x = self._cast_input(x)
        self.losses = []
        extra = {"mask": mask} if mask is not None and self._call_takes_mask else {}
        if logits:
            out = self.call(x, training=training, logits=True, **extra)
            if self.activity_regularizer is not None:
                self.losses.append(self.activity_regularizer(self.activation(out)))
        else:
            out = self.call(x, training=training, **extra)
            if self.activity_regularizer is not None:
                self.losses.append(self.activity_regularizer(out))
        if mask is not None or self._makes_mask():
            self._attach_mask(x, out, mask)
        return out

    def _attach_mask(self, x, out, mask):
        """Put compute_mask's result on the output(s), unless call already did (Keras's rule)."""
        outs = out if isinstance(out, (list, tuple)) else [out]
        if all(get_mask(o) is not None for o in outs):
            return
        out_mask = self.compute_mask(x, mask)
        if out_mask is None:
            return
        masks = list(out_mask) if isinstance(out_mask, (list, tuple)) else [out_mask] + [None] * (len(outs) - 1)
        for o, m in zip(outs, masks):
            if m is None or get_mask(o) is not None:
                continue
            m = np.asarray(m.detach().numpy() if isinstance(m, _C.Tensor) else m).astype(bool)
            if m.ndim > o.dim() or tuple(o.shape[:m.ndim]) != m.shape:
                raise ValueError(f"{self.name}: compute_mask gave a mask of shape {m.shape} for an output of shape "
                                 f"{tuple(o.shape)}; a mask covers the output's leading axes (batch, time)")
            set_mask(o, m)

    def _cast_input(self, x):
        if x.dtype != self.dtype and self._casts_inputs and x.dtype.name in ("float32", "float64"):
            x = x.to(self.dtype)  # Keras's rule: a layer computes in its own dtype (the cast has a gradient)
        return x

    def _build_for(self, input_shape):
        """Build for sample shape(s) without the batch axis: a tuple, or a list of tuples for a
        layer of several inputs (then ``input_shape`` is a list too). A shape the layer refuses
        (in build or in compute_output_shape) leaves it unbuilt and without weights, so that a
        later call with good data builds it properly (a pooling layer's build succeeds and only its
        output shape finds a pool larger than the image)."""
        multi = _is_shape_list(input_shape)
        input_shape = [tuple(s) for s in input_shape] if multi else tuple(input_shape)
        params, untrainable = list(self._params), set(self._untrainable)
        try:
            self.build(input_shape)
            out = self.compute_output_shape(input_shape)
        except BaseException:
            self.built = False
            self._params, self._untrainable = params, untrainable
            raise
        self.built = True
        self.input_shape = [(None,) + s for s in input_shape] if multi else (None,) + input_shape
        if _is_shape_list(out):
            self.output_shape = [(None,) + tuple(o) for o in out]
        else:
            self.output_shape = (None,) + tuple(out)

    def _check_input(self, shape):
        if self.input_shape is None:
            return
        if _is_shape_list(shape) or _is_shape_list(self.input_shape):
            expected = [tuple(s[1:]) for s in self.input_shape] if _is_shape_list(self.input_shape) else None
            got = [tuple(s) for s in shape] if _is_shape_list(shape) else None
            if expected is None or got != expected:
                raise ValueError(f"{self.name}: was built for inputs {self.input_shape}, got samples of shape(s) "
                                 f"{shape}")
            return
        if tuple(self.input_shape[1:]) != tuple(shape):
            raise ValueError(f"{self.name}: expected input of shape {self.input_shape}, got (batch,) + {shape}")

    def get_config(self):
        # dtype None: not given (a layer without weights then keeps its input's dtype)
        cfg = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name if self._dtype_given else None}
        if self.activity_regularizer is not None:
            cfg["activity_regularizer"] = _reg.serialize(self.activity_regularizer)
        if self._input_shape_arg is not None:
            cfg["input_shape"] = list(self._input_shape_arg)
        return cfg

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __getstate__(self):
        # copy.deepcopy and pickle: `losses` holds the last call's penalty terms, tensors of that
        # call's graph (which cannot be copied); the copy starts without them, as before a call
        state = dict(self.__dict__)
        state["losses"] = []
        return state

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"
