"""Functional: ``Model(inputs, outputs)``, a graph of layer calls on symbolic tensors
(Keras's models/functional.py)."""
from .. import _C
from .. import layers as _layers
from ..layers.base import KerasTensor, _is_shape_list, keras1_names
from ..layers.core import InputLayer
from .model import Model


class Functional(Model):
    """``Model(inputs, outputs)``: a graph of layer calls. The graph lives in the symbolic
    tensors: each KerasTensor knows the Node (layer call) that made it and each Node its input
    tensors, so the model walks back from ``outputs`` to ``inputs`` once, here, and keeps the
    nodes in topological order (``_nodes``); running the model calls them in that order."""

    @keras1_names(input="inputs", output="outputs")  # Keras 1's Model(input=..., output=...), the slides' code
    def __init__(self, inputs, outputs, name=None, trainable=True):
        self._init_model(name, "functional")
        self._single_input = isinstance(inputs, KerasTensor)
        self._single_output = isinstance(outputs, KerasTensor)
        ins = self._tensor_list("inputs", inputs)
        outs = self._tensor_list("outputs", outputs)
        for i, t in enumerate(ins):
            if not isinstance(t._keras_history[0], InputLayer):
                raise ValueError(f"Model: inputs[{i}] ({t!r}) is the output of layer {t._keras_history[0].name!r}, "
                                 "not a pydl.Input(...); a model's inputs are Input tensors (to cut a sub-model, "
                                 "start from the full model's input)")
        if len({id(t) for t in ins}) != len(ins):
            raise ValueError(f"Model: an input is listed twice in inputs {[t.name for t in ins]}")
        self._inputs, self._outputs = ins, outs
        self._nodes = self._topological_nodes(ins, outs)
        layers = [t._keras_history[0] for t in ins]
        for node in self._nodes:
            if node.layer not in layers:
                layers.append(node.layer)
        by_name = {}
        for layer in layers:
            if layer.name in by_name:
                raise ValueError(f"Model: two layers are named {layer.name!r} ({type(by_name[layer.name]).__name__} "
                                 f"and {type(layer).__name__}); layer names in a model must be unique (give name=...)")
            by_name[layer.name] = layer
        self._layer_list = layers
        names = [t._keras_history[0].name for t in outs]
        self._out_names = [n if names.count(n) == 1 else f"{n}_{i}" for i, n in enumerate(names)]
        if not trainable:
            self.trainable = False

    @staticmethod
    def _tensor_list(what, value):
        if isinstance(value, dict):
            raise TypeError(f"Model: give {what} as one symbolic tensor or a list of them (data dicts are keyed by "
                            "the input layers' and output layers' names), got a dict")
        items = [value] if isinstance(value, KerasTensor) else list(value) if isinstance(value, (list, tuple)) else None
        if not items:
            raise TypeError(f"Model: {what} must be a symbolic tensor (from pydl.Input or a layer called on one) or a "
                            f"non-empty list of them, got {value!r}")
        for i, t in enumerate(items):
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Model: {what}[{i}] must be a symbolic tensor (from pydl.Input or a layer called on "
                                f"one), got {type(t).__name__}")
        return items

    @staticmethod
    def _topological_nodes(ins, outs):
        """The nodes between ``ins`` and ``outs``, each after the nodes it reads (depth first from
        the outputs). An Input reached that is not in ``ins``, or an input no output reads,
        raises ValueError."""
        given = {id(t) for t in ins}
        order, state, used = [], {}, set()
        for out in outs:
            stack = [(out.node, False)]
            while stack:
                node, done = stack.pop()
                if done:
                    state[id(node)] = 2
                    order.append(node)
                    continue
                if id(node) in state:
                    continue
                if isinstance(node.layer, InputLayer):
                    t = node.outputs[0]
                    if id(t) not in given:
                        raise ValueError(f"Model: graph disconnected: output {out.name} {out.shape} depends on the "
                                         f"input {node.layer.name!r} {t.shape}, which is not among the model's inputs "
                                         f"{[x.name for x in ins]}")
                    used.add(id(t))
                    state[id(node)] = 2
                    continue
                state[id(node)] = 1
                stack.append((node, True))
                for t in reversed(node.inputs):
                    if id(t.node) not in state:
                        stack.append((t.node, False))
        unused = [t for t in ins if id(t) not in used and id(t) not in {id(o) for o in outs}]
        if unused:
            raise ValueError(f"Model: the input(s) {[(t.name, t.shape) for t in unused]} are disconnected: no output "
                             f"among {[o.name for o in outs]} depends on them; remove them from inputs or use them")
        return order

    # ---------------------------------------------------------------- structure
    @property
    def layers(self):
        """The model's layers (its Input layers first), each once, in the order they run."""
        return list(self._layer_list)

    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def input(self):
        return self._inputs[0] if self._single_input else list(self._inputs)

    @property
    def output(self):
        return self._outputs[0] if self._single_output else list(self._outputs)

    @property
    def _input_names(self):
        return [t._keras_history[0].name for t in self._inputs]

    @property
    def _output_names(self):
        return list(self._out_names)

    @property
    def built(self):
        return True

    @property
    def _input_shape_arg(self):
        return tuple(self._inputs[0].shape[1:]) if len(self._inputs) == 1 else None

    @property
    def input_shape(self):
        shapes = [t.shape for t in self._inputs]
        return shapes[0] if self._single_input else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self._outputs]
        return shapes[0] if self._single_output else shapes

    def _output_shapes(self):
        return [t.shape for t in self._outputs]

    def build(self, input_shape=None):
        if input_shape is not None:
            self._check_input(input_shape)

    def _check_input(self, shape):
        expected = [tuple(t.shape[1:]) for t in self._inputs]
        got = [tuple(s) for s in shape] if _is_shape_list(shape) else [tuple(shape)]
        if got != expected:
            raise ValueError(f"{self.name}: expected input samples of shape(s) "
                             f"{expected[0] if len(expected) == 1 else expected}, got "
                             f"{got[0] if len(got) == 1 else got}")

    def compute_output_shape(self, input_shape):
        self._check_input(input_shape)
        shapes = [tuple(t.shape[1:]) for t in self._outputs]
        return shapes[0] if self._single_output else shapes

    def _ensure_built(self, shapes, name):
        for t, shape in zip(self._inputs, shapes):
            want = tuple(t.shape[1:])
            shape = tuple(shape)
            if shape[1:] != want:
                which = "x" if len(self._inputs) == 1 else f"x[{t._keras_history[0].name!r}]"
                if shape == want:
                    raise ValueError(f"{name}: {which} of shape {shape} has no batch axis: {self.name} takes samples "
                                     f"of shape {want}, so one sample is x[None]")
                raise ValueError(f"{name}: {self.name} expected {which} samples of shape {want} (input "
                                 f"{t._keras_history[0].name!r}), got {shape[1:]} ({which} has shape {shape})")

    def _dtype_of_first_casting(self, nodes):
        for node in nodes:
            layer = node.layer
            if layer._casts_inputs:
                return layer.dtype if not isinstance(layer, Model) else layer._input_dtype
        return None

    @property
    def _input_dtype(self):
        for t in self._inputs:
            if t._keras_history[0]._casts_inputs:
                return t._keras_history[0].dtype
        return self._dtype_of_first_casting(self._nodes) or _C.float32

    @property
    def _output_dtype(self):
        for node in reversed(self._nodes):
            layer = node.layer
            if layer._casts_inputs:
                return layer._output_dtype if isinstance(layer, Model) else layer.dtype
        return self._input_dtype

    def _fusable_output_layers(self):
        """For each output, the layer whose call makes it when that call can give logits (a Dense
        or Activation whose output nothing else in the graph reads)."""
        read = {}
        for node in self._nodes:
            for t in node.inputs:
                read[id(t)] = read.get(id(t), 0) + 1
        for t in self._outputs:
            read[id(t)] = read.get(id(t), 0) + 1
        out = []
        for t in self._outputs:
            layer = t._keras_history[0]
            ok = read[id(t)] == 1 and not isinstance(layer, InputLayer) and len(t.node.outputs) == 1
            if ok and isinstance(layer, Model):  # a nested model: the layer inside it
                layer = layer._inner_fusable()
            out.append(layer if ok else None)
        return out

    # ---------------------------------------------------------------- forward
    def _run(self, xs, training=False, logits=None):
        """Call the nodes in topological order; ``logits[i]``: output i is given before its last
        layer's activation (for the fused softmax/sigmoid + crossentropy)."""
        values = {id(t): x for t, x in zip(self._inputs, xs)}
        fused = set()
        if logits:
            fused = {id(t.node) for t, flag in zip(self._outputs, logits) if flag}
        for node in self._nodes:
            args = [values[id(t)] for t in node.inputs]
            arg = args[0] if node.single_input else args
            tr = training if node.training is None else node.training
            if id(node) in fused:
                out = node.layer._call(arg, training=tr, logits=True)
            else:
                out = node.layer(arg, training=tr)
            if len(node.outputs) == 1:
                values[id(node.outputs[0])] = out
            else:
                for t, v in zip(node.outputs, out):
                    values[id(t)] = v
        return [values[id(t)] for t in self._outputs]

    # ---------------------------------------------------------------- summary
    def _node_index(self):
        """Each node's index among its layer's nodes in this model (Keras's ``layer[i][j]``)."""
        counts, index = {}, {}
        for t in self._inputs:
            index[id(t.node)] = 0
        for node in self._nodes:
            k = counts.get(id(node.layer), 0)
            counts[id(node.layer)] = k + 1
            index[id(node)] = k
        return index

    def summary(self, print_fn=print):
        """Keras's table with a "Connected to" column: each layer's inputs as
        ``layer_name[node][tensor]``, one line per input (a shared layer: one row per call)."""
        index = self._node_index()
        rows = []
        for t in self._inputs:
            layer = t._keras_history[0]
            rows.append((f"{layer.name} ({type(layer).__name__})", str(t.shape), "0", "-"))
        for layer in self._layer_list[len(self._inputs):]:
            nodes = [n for n in self._nodes if n.layer is layer]
            for i, node in enumerate(nodes):
                shape = node.outputs[0].shape if len(node.outputs) == 1 else [o.shape for o in node.outputs]
                links = "\n".join(f"{t._keras_history[0].name}[{index[id(t.node)]}][{t._keras_history[2]}]"
                                  for t in node.inputs)
                rows.append((f"{layer.name} ({type(layer).__name__})" if i == 0 else "", str(shape),
                             f"{layer.count_params():,}" if i == 0 else "", links))
        self._summary_table(("Layer (type)", "Output Shape", "Param #", "Connected to"), rows, print_fn)

    # ---------------------------------------------------------------- config
    def get_config(self):
        """The layers (each once) and the nodes in topological order, each as [layer name, called on a
        list, training, inbound tensors [[layer name, node index, tensor index], ...]]."""
        index = self._node_index()

        def ref(t):
            return [t._keras_history[0].name, index[id(t.node)], t._keras_history[2]]

        cfg = {"name": self.name,
               "layers": [_layers.serialize(l) for l in self._layer_list],
               "nodes": [[n.layer.name, not n.single_input, n.training, [ref(t) for t in n.inputs]]
                         for n in self._nodes],
               "input_layers": [ref(t) for t in self._inputs],
               "output_layers": [ref(t) for t in self._outputs],
               "single_input": self._single_input, "single_output": self._single_output}
        if not self.trainable:
            cfg["trainable"] = False
        return cfg

    @classmethod
    def from_config(cls, config):
        layers = {}
        for d in config["layers"]:
            layer = _layers.deserialize(d)
            layers[layer.name] = layer
        return cls._rebuild(config, layers)

    @classmethod
    def _rebuild(cls, config, layers, input_tensors=None):
        """Replay ``config``'s nodes on ``layers`` (config name -> layer, which may be named
        otherwise: clone_model's clone_function), from the config's Input layers or from
        ``input_tensors`` (one Input per model input, in order)."""
        made = {}  # (layer name, node index) -> output tensors
        if input_tensors is not None:
            for (name, _, _), t in zip(config["input_layers"], input_tensors):
                made[(name, 0)] = [t]
        else:
            for name, layer in layers.items():
                if isinstance(layer, InputLayer):
                    made[(name, 0)] = layer._inbound_nodes[0].outputs
        counts = {}

        def tensor(ref):
            name, k, i = ref
            if (name, k) not in made:
                raise ValueError(f"Model.from_config: the config reads node {k} of layer {name!r} before it is made")
            return made[(name, k)][i]

        for name, as_list, training, inbound in config["nodes"]:
            if name not in layers:
                raise ValueError(f"Model.from_config: a node calls layer {name!r}, which the config does not define")
            args = [tensor(r) for r in inbound]
            out = layers[name](args if as_list else args[0], training=training)
            k = counts.get(name, 0)
            counts[name] = k + 1
            made[(name, k)] = out if isinstance(out, list) else [out]
        ins = [tensor(r) for r in config["input_layers"]]
        outs = [tensor(r) for r in config["output_layers"]]
        model = cls(ins[0] if config.get("single_input", len(ins) == 1) else ins,
                    outs[0] if config.get("single_output", len(outs) == 1) else outs, name=config.get("name"))
        if config.get("trainable") is False:
            model._trainable = False
        return model
