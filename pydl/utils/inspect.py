"""Looking inside a trained model: every layer's output for some inputs (what the feature maps
pictures are drawn from)."""
import numpy as np

from .. import _C
from ..autograd import no_grad


def layer_outputs(model, x):
    """``[(layer name, layer, output tensor), ...]`` for a batch ``x`` (one input) in inference
    mode (Dropout off, BatchNormalization on its moving statistics), without recording a graph.
    A Sequential runs its layers one by one; a functional model is cut into a sub-model whose
    outputs are every layer's output (``Model(model.input, [layer.output, ...])``), so branches
    and skip connections are followed as the model runs them."""
    from ..models import Model, Sequential
    from ..layers.core import InputLayer
    if not isinstance(model, Model):
        raise TypeError(f"layer_outputs: expected a pydl model, got {type(model).__name__}")
    h = x if isinstance(x, _C.Tensor) else _C.tensor(np.asarray(x, dtype=model._input_dtype.name))
    layers = [layer for layer in model.layers if not isinstance(layer, InputLayer)]
    with no_grad():
        if isinstance(model, Sequential):
            model._ensure_built([tuple(h.shape)], "layer_outputs")
            out = []
            for layer in layers:
                h = layer(h, training=False)
                out.append((layer.name, layer, h))
            return out
        if len(model.inputs) != 1:
            raise ValueError(f"layer_outputs: {model.name} has {len(model.inputs)} inputs; give a model of one input")
        model._ensure_built([tuple(h.shape)], "layer_outputs")
        probe = Model(model.inputs[0], [layer.output for layer in layers])
        outs = probe(h, training=False)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        return [(layer.name, layer, o) for layer, o in zip(layers, outs)]
