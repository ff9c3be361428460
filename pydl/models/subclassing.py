"""The subclassing API (Keras 3's), mixed into Model: ``class VAE(pydl.models.Model)`` whose
``__init__`` calls ``super().__init__(name=...)`` and assigns layers, models and metrics as
attributes, with a ``call(inputs, training=None)``. Here: the attribute tracking and the wiring
of such a model (its layers, build on first data, run, summary), and ``add_loss`` in its call.
Sequential and Functional override every piece of the wiring (they never come through here);
the training loop itself is Model's (pydl/models/model.py).
"""
import inspect

from .. import _C
from .. import metrics as _metrics
from .._registry import camel_to_snake
from ..autograd import no_grad
from ..layers.base import Layer


def _is_model(layer):
    from .model import Model
    return isinstance(layer, Model)


class SubclassingAPI:
    def __init__(self, *args, name=None, trainable=True, **kwargs):
        """The subclassing API (Keras 3's): ``class VAE(pydl.models.Model)`` whose ``__init__``
        calls ``super().__init__(name=...)`` and assigns layers, models and metrics as attributes
        (they are tracked: the model's weights are theirs), and defines ``call(inputs,
        training=None)`` and/or its own ``train_step(data)`` / ``test_step(data)`` (see
        pydl/models/custom_step.py). Sequential and Functional do not come through here."""
        if args:
            raise TypeError(f"{type(self).__name__}: Model(inputs, outputs) builds a functional model; a subclass of "
                            f"Model calls super().__init__(name=..., trainable=...) with keywords only")
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected argument(s) {sorted(kwargs)} for Model.__init__; "
                            "valid: name, trainable")
        self._init_model(name, camel_to_snake(type(self).__name__))
        self._tracked, self._tracked_metrics, self._own_losses = [], [], []
        self._subclass_input_shape = None
        self._subclassed = True
        self.trainable = trainable

    def __setattr__(self, name, value):
        # the subclassing API tracks the layers, models and metrics it is given as attributes
        if not name.startswith("_") and self.__dict__.get("_subclassed"):
            for v in (value if isinstance(value, (list, tuple)) else [value]):
                if isinstance(v, Layer) and v is not self and all(v is not t for t in self._tracked):
                    self._tracked.append(v)
                elif isinstance(v, _metrics.Metric) and all(v is not m for m in self._tracked_metrics):
                    self._tracked_metrics.append(v)
        object.__setattr__(self, name, value)

    @property
    def layers(self):
        """A subclassed model's layers and models, in the order they were assigned."""
        return list(self._tracked)

    @property
    def built(self):
        return self._subclass_input_shape is not None or (bool(self._tracked) and all(l.built for l in self._tracked))

    @property
    def _input_names(self):
        return ["input"]

    @property
    def _output_names(self):
        return ["output"]

    @property
    def _input_dtype(self):
        return _C.float64 if any(l.dtype == _C.float64 for l in self._tracked if not _is_model(l)) \
            else _C.float32

    @property
    def _output_dtype(self):
        return self._input_dtype

    def _fusable_output_layers(self):
        return [None]

    def _output_shapes(self):
        return None  # known only by running call()

    @property
    def metrics(self):
        """A subclassed model's Metric attributes (the trackers a custom ``train_step`` updates;
        fit resets them at each epoch). A subclass may define its own ``metrics`` property, as
        the Keras examples do."""
        if not self.__dict__.get("_subclassed"):
            raise NotImplementedError(f"{self.name}.metrics lists a subclassed model's trackers; a "
                                      f"{type(self).__name__}'s compiled metrics are in its fit history")
        return list(self._tracked_metrics)

    def _has_call(self):
        return type(self).call is not Layer.call

    def _ensure_built(self, shapes, name):
        """A subclassed model builds on its first data: one call on a batch of zeros."""
        if self._subclass_input_shape is not None:
            return
        if not self._has_call():
            if self.built:
                return
            raise ValueError(f"{name}: {self.name} defines no call(), so it cannot be run on data; define "
                             "call(self, inputs, training=None), or call its sub-models yourself in train_step")
        shape = tuple(shapes[0])
        with no_grad():
            self._invoke([_C.zeros(*((1,) + shape[1:]), dtype=self._input_dtype)], False)
        self._subclass_input_shape = shape[1:]

    def _invoke(self, xs, training):
        self._own_losses = []  # add_loss terms of this call only
        x = xs[0] if len(xs) == 1 else list(xs)
        if "training" in inspect.signature(self.call).parameters:
            return self.call(x, training=training)
        return self.call(x)

    def _run(self, xs, training=False, logits=None):
        if logits and any(logits):
            raise ValueError(f"{self.name}: a subclassed model has no fused output")
        return [self._invoke(xs, training)]

    def summary(self, print_fn=print):
        """A subclassed model's tracked layers with their parameter counts."""
        self._summary_check()
        rows = [(f"{l.name} ({type(l).__name__})", f"{l.count_params():,}" if l.built else "unbuilt")
                for l in self.layers]
        self._summary_table(("Layer (type)", "Param #"), rows, print_fn)

    def get_config(self):
        if self.__dict__.get("_subclassed"):
            raise NotImplementedError(f"{self.name}: a subclassed model cannot be saved whole (its call() is Python "
                                      "code that a model file never carries); use save_weights / load_weights, or "
                                      "save its sub-models, which are Sequential or functional")
        return super().get_config()

    def add_loss(self, loss):
        """``self.add_loss(term)`` inside a subclassed model's ``call`` (Keras's): a scalar tensor
        added to the loss of this call. In a layer's ``call``, use the layer's ``add_loss``."""
        from ..layers.base import _loss_term
        if not self.__dict__.get("_subclassed"):
            raise NotImplementedError(f"{self.name}.add_loss: only a subclassed model's call() adds its own loss "
                                      "terms; compute the term in a layer's call() and call self.add_loss there")
        self._own_losses.append(_loss_term(self.name, loss))

    def _own_loss_terms(self):
        terms = list(self.__dict__.get("_own_losses", []))
        for layer in self.layers:
            if _is_model(layer):
                terms += layer._own_loss_terms()
        return terms
