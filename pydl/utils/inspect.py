"""Looking inside a trained model: every layer's output for some inputs (what the feature maps
pictures are drawn from)."""
import numpy as np

from .. import _C
from ..autograd import no_grad


def layer_outputs(model, x):
    """``[(layer name, layer, output tensor), ...]`` for a batch ``x`` run through a Sequential
    model layer by layer, in inference mode (Dropout off, BatchNormalization on its moving
    statistics), without recording a graph."""
    from ..models import Sequential
    if not isinstance(model, Sequential):
        raise TypeError(f"layer_outputs: expected a Sequential model (its layers form a chain), got "
                        f"{type(model).__name__}; for a functional model cut a sub-model with "
                        "Model(model.input, model.get_layer(name).output)")
    layers = model.layers
    out = []
    with no_grad():
        h = x if isinstance(x, _C.Tensor) else _C.tensor(np.asarray(x, dtype=np.float32))
        if hasattr(model, "_ensure_built"):
            model._ensure_built(tuple(h.shape), "layer_outputs")
        for layer in layers:
            h = layer(h, training=False)
            out.append((layer.name, layer, h))
    return out
