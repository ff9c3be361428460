"""Sequential: a stack of layers, each feeding the next (Keras's models/sequential.py)."""
from .. import _C
from .. import layers as _layers
from ..layers.base import KerasTensor, _is_shape_list, _shape_arg, _unique_name
from ..layers.core import InputLayer
from .model import Model


class Sequential(Model):
    """A stack of layers, each feeding the next. Once it knows its input shape it also records
    the stack as a functional graph, so ``model.input``, ``model.output`` and each layer's
    ``input``/``output`` exist, as in Keras (``Model(seq.input, seq.get_layer("code").output)``)."""

    def __init__(self, layers=None, name=None, trainable=True):
        self._init_model(name, "sequential")
        self._layers = []
        self._stack = []
        self._input_shape = None
        self._graph = None  # (layer ids, input layer, input tensor, output tensor, nodes): see _make_graph
        for layer in layers or []:
            self.add(layer)
        if not trainable:
            self.trainable = False

    # ---------------------------------------------------------------- structure
    @property
    def layers(self):
        """The model's layers in order (an Input marker is not one)."""
        return self._stack

    def _all_layers(self):
        return self._layers

    def _restack(self):
        self._stack = [l for l in self._layers if not isinstance(l, InputLayer)]
        self._optimizer_built = False  # the next step fixes the trained weights again (with any new layer's)

    def add(self, layer):
        if isinstance(layer, KerasTensor) and isinstance(layer._keras_history[0], InputLayer):
            layer = layer._keras_history[0]  # Sequential([Input((4,)), ...]): the Input's layer
        if not isinstance(layer, _layers.Layer):
            raise TypeError(f"Sequential.add: expected a Layer, got {type(layer).__name__}")
        if not self._layers and layer._input_shape_arg is not None:
            self._input_shape = tuple(layer._input_shape_arg)
        elif isinstance(layer, InputLayer):
            raise ValueError("Sequential.add: an Input layer can only come first")
        if any(l.name == layer.name for l in self._layers):
            other = next(l for l in self._layers if l.name == layer.name)
            raise ValueError(f"Sequential.add: {self.name} already has a layer named {layer.name!r} "
                             f"({type(other).__name__}); layer names in a model must be unique (give name=...)")
        self._layers.append(layer)
        self._restack()
        if self._input_shape is not None:
            self.build()

    def pop(self):
        if not self.layers:
            raise ValueError("Sequential.pop: the model has no layers")
        layer = self._layers.pop()
        self._restack()
        self._drop_graph()
        if self.built:
            self._make_graph()
        return layer

    @property
    def _input_shape_arg(self):
        return self._input_shape

    @property
    def built(self):
        return bool(self.layers) and all(l.built for l in self.layers)

    @property
    def input_shape(self):
        return None if self._input_shape is None else (None,) + tuple(self._input_shape)

    @property
    def output_shape(self):
        return self.layers[-1].output_shape if self.built else None

    def build(self, input_shape=None):
        """Create every layer's weights for samples of ``input_shape`` (no batch axis)."""
        if input_shape is not None:
            self._input_shape = _shape_arg(f"{self.name}.build", "input_shape", input_shape)
        if self._input_shape is None:
            raise ValueError(f"{self.name}: cannot build without knowing the input shape: give the first layer "
                             "input_shape=(...) (or input_dim=...), start with Input(shape=...), or call fit/predict")
        shape = self._input_shape
        for layer in self.layers:
            if not layer.built:
                layer._build_for(shape)
            elif tuple(layer.input_shape[1:]) != tuple(shape):
                raise ValueError(f"{layer.name}: was built for inputs {layer.input_shape[1:]} but gets {shape}")
            shape = tuple(layer.output_shape[1:])
        self._make_graph()

    def _make_graph(self):
        """Record the stack as a functional graph (once per set of layers): an input tensor (the
        Input given first, else one made here) and one node per layer."""
        key = tuple(id(l) for l in self._layers)
        if not self.layers or (self._graph is not None and self._graph[0] == key):
            return
        self._drop_graph()
        if isinstance(self._layers[0], InputLayer):
            first = self._layers[0]
        else:  # an input layer of its own, kept while the input shape stays
            first = getattr(self, "_own_input", None)
            if first is None or tuple(first.input_shape[1:]) != tuple(self._input_shape):
                first = self._own_input = InputLayer(shape=self._input_shape, name=_unique_name(f"{self.name}_input"))
        x = inp = first._inbound_nodes[0].outputs[0]
        nodes = []
        try:
            for layer in self.layers:
                x = layer(x)
                nodes.append((layer, layer._inbound_nodes[-1]))
        except Exception as e:  # noqa: BLE001  a layer that cannot be called symbolically: no graph, said on use
            for layer, node in nodes:
                layer._inbound_nodes.remove(node)
            self._graph_error = f"{type(e).__name__}: {e}"
            return
        self._graph = (key, first, inp, x, nodes)

    def _drop_graph(self):
        if self._graph is not None:
            for layer, node in self._graph[4]:
                if node in layer._inbound_nodes:
                    layer._inbound_nodes.remove(node)
        self._graph = None

    def _graph_part(self, i, what):
        if self._graph is None and self.built:
            self._make_graph()
        if self._graph is None:
            why = getattr(self, "_graph_error", None)
            raise AttributeError(f"{self.name}: has no {what} yet: it is not built (give the first layer an "
                                 "input_shape, start with Input(shape=...), or call fit/predict)"
                                 if why is None else f"{self.name}: has no symbolic {what}: a layer could not be "
                                 f"called on symbolic tensors ({why})")
        return self._graph[i]

    @property
    def input(self):
        """The symbolic input of the model's graph (a KerasTensor)."""
        return self._graph_part(2, "input")

    @property
    def output(self):
        """The symbolic output of the model's graph."""
        return self._graph_part(3, "output")

    @property
    def inputs(self):
        return [self.input]

    @property
    def outputs(self):
        return [self.output]

    @property
    def _input_names(self):
        if self._layers and isinstance(self._layers[0], InputLayer):
            return [self._layers[0].name]
        return [self._graph[1].name] if self._graph is not None else ["input"]

    @property
    def _output_names(self):
        return [self.layers[-1].name] if self.layers else ["output"]

    def _ensure_built(self, shapes, name):
        """Build on the first data seen, else check it: ``name`` is the calling function."""
        if not self.layers:
            raise ValueError(f"{name}: {self.name} has no layers; add some with model.add(...)")
        data_shape = tuple(shapes[0])
        shape = data_shape[1:]
        if self._input_shape is None:
            # The first data fixes the input shape only if every layer builds on it: a refused
            # shape (NHWC images to a Conv2D) leaves the model as it was, so corrected data builds it.
            unbuilt = [(layer, list(layer._params), set(layer._untrainable)) for layer in self.layers
                       if not layer.built]
            self._input_shape = shape
            try:
                self.build()
            except BaseException:
                self._input_shape = None
                for layer, params, untrainable in unbuilt:
                    layer.built, layer._params, layer._untrainable = False, params, untrainable
                    layer.input_shape = layer.output_shape = None
                raise
            return
        if shape != tuple(self._input_shape):
            want = tuple(self._input_shape)
            if data_shape == want:
                raise ValueError(f"{name}: x of shape {data_shape} has no batch axis: {self.name} takes samples "
                                 f"of shape {want}, so one sample is x[None]")
            hint = ""
            if len(want) == 3 and shape == want[1:] + want[:1]:
                hint = (f": these look like channels_last images (height {shape[0]}, width {shape[1]}, {shape[2]} "
                        f"channel(s) last) for a model of channels_first (channels, height, width) samples; "
                        f"transpose the data with x.transpose(0, 3, 1, 2), or build the model with "
                        f"data_format='channels_last' on its image layers")
            raise ValueError(f"{name}: {self.name} expected input samples of shape {want}, "
                             f"got {shape} (x has shape {data_shape}){hint}")
        self.build()

    def _check_input(self, shape):
        if _is_shape_list(shape):
            raise ValueError(f"{self.name}: a Sequential model takes one input, got {len(shape)} (shapes {shape})")
        if self._input_shape is not None and tuple(shape) != tuple(self._input_shape):
            raise ValueError(f"{self.name}: expected input samples of shape {tuple(self._input_shape)}, got "
                             f"{tuple(shape)}")

    def compute_output_shape(self, input_shape):
        self._check_input(input_shape)
        if not self.built:
            self.build(input_shape)
        return tuple(self.layers[-1].output_shape[1:])

    @property
    def _input_dtype(self):
        """The dtype data is cast to: that of the first layer that fixes one (its own dtype
        argument, or weights), else float32."""
        for layer in self._layers:
            if layer._casts_inputs:
                return layer.dtype
        return _C.float32

    @property
    def _output_dtype(self):
        for layer in reversed(self._layers):
            if layer._casts_inputs:
                return layer._output_dtype if isinstance(layer, Model) else layer.dtype
        return _C.float32

    def _fusable_output_layers(self):
        last = self.layers[-1] if self.layers else None
        return [last._inner_fusable() if isinstance(last, Model) else last]  # a nested model: its last layer

    def _output_shapes(self):
        last = self.layers[-1] if self.layers else None
        return [last.output_shape] if last is not None and last.built else None

    def summary(self, print_fn=print):
        self._summary_check()
        rows = [(f"{l.name} ({type(l).__name__})", str(l.output_shape), f"{l.count_params():,}") for l in self.layers]
        self._summary_table(("Layer (type)", "Output Shape", "Param #"), rows, print_fn)

    # ---------------------------------------------------------------- forward
    def _forward(self, x, training=False, logits=False):
        layers = self.layers
        for i, layer in enumerate(layers):
            if logits and i == len(layers) - 1:
                x = layer._call(x, training=training, logits=True)
            else:
                x = layer(x, training=training)
        return x

    def _run(self, xs, training=False, logits=None):
        return [self._forward(xs[0], training=training, logits=bool(logits and logits[0]))]

    # ---------------------------------------------------------------- config
    def get_config(self):
        cfg = {"name": self.name, "layers": [_layers.serialize(l) for l in self._layers],
               "build_input_shape": None if self._input_shape is None else list(self._input_shape)}
        if not self.trainable:
            cfg["trainable"] = False
        return cfg

    @classmethod
    def from_config(cls, config):
        model = cls(name=config.get("name"))
        for d in config.get("layers", []):
            model.add(_layers.deserialize(d))
        if config.get("build_input_shape") is not None and not model.built:
            model.build(tuple(config["build_input_shape"]))
        if config.get("trainable") is False:
            model._trainable = False  # the layers' own flags come from their configs
        return model
