"""Saving and loading models without pickle.

A model file is a zip of three members:
    model.json     {"format": "pydl-model", "version": 1, "model": config, "compile": ...}
    weights.npz    the layer weights, w0, w1, ... in model.weights order
    optimizer.npz  the optimizer's state (slots and step count), when compiled
Loading reads JSON and NumPy arrays (``allow_pickle=False``), so nothing in a file is ever
executed, and it checks everything before it assigns anything: a bad file leaves no
half-loaded model.

Custom objects (layers, losses, metrics, activations, initializers, regularizers) are saved
by name and config; loading finds them again in the registry (``@register_serializable()``)
or in ``load_model(path, custom_objects={...})``, never by importing what the file names.
Saving warns about any custom object that could not be found again that way.
"""
import io
import json
import warnings
import zipfile

import numpy as np

from . import _registry
from ._registry import (  # noqa: F401  (the public API: pydl.saving.register_serializable, ...)
    register_serializable, get_registered_name, get_registered_object, custom_object_scope,
)

FORMAT = "pydl-model"
VERSION = 1


class ModelFileError(ValueError):
    """The file is not a pydl model file this version can read."""


def _npz_bytes(arrays):
    buf = io.BytesIO()
    np.savez(buf, **{f"w{i}": a for i, a in enumerate(arrays)})
    return buf.getvalue()


def _read_npz(zf, member, path):
    try:
        with np.load(io.BytesIO(zf.read(member)), allow_pickle=False) as data:
            n = len(data.files)
            return [data[f"w{i}"] for i in range(n)]
    except KeyError as e:
        raise ModelFileError(f"{path}: missing {member} or an array in it ({e})") from None
    except (ValueError, OSError, zipfile.BadZipFile) as e:
        raise ModelFileError(f"{path}: {member} is corrupted ({e})") from None


def _open(path):
    try:
        zf = zipfile.ZipFile(path)
        bad = zf.testzip()
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise ModelFileError(f"{path} is not a pydl model file (not a readable zip: {e})") from None
    if bad is not None:
        raise ModelFileError(f"{path}: member {bad} is corrupted (CRC check failed)")
    return zf


def _header(zf, path):
    try:
        meta = json.loads(zf.read("model.json").decode("utf-8"))
    except KeyError:
        raise ModelFileError(f"{path} is not a pydl model file (no model.json)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileError(f"{path}: model.json is corrupted ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a pydl model file (format {meta.get('format')!r})")
    if not isinstance(meta.get("version"), int) or meta["version"] > VERSION:
        raise ModelFileError(f"{path} was written by a newer pydl (file format {meta.get('version')}, this "
                             f"pydl reads up to {VERSION}); upgrade pydl to load it")
    return meta


def _model_classes():
    """The one registry of model classes (saving and nesting a model inside another find them
    here); custom model classes register with ``@register_serializable()``."""
    from . import models as _models
    return {"Sequential": _models.Sequential, "Functional": _models.Functional}


def _optimizer_classes():
    from . import optimizers as _opt
    return {cls.__name__: cls for cls in _opt._OPTIMIZERS.values()}


def _loss_entry(loss, loss_name):
    """One loss as JSON: its name when the user gave the name of exactly this loss, else its
    serialized object (a function compile wrapped is saved as the function)."""
    from . import losses as _losses
    wrapper = getattr(_losses, "LossFunctionWrapper", None)
    if wrapper is not None and isinstance(loss, wrapper) and not loss.fn_kwargs and \
            loss.get_config() == wrapper(loss.fn).get_config():
        loss = loss.fn  # compile wrapped the user's function: save the function, compile wraps it again
    if isinstance(loss_name, str):
        try:
            by_name = _losses.get(loss_name)
        except (ValueError, TypeError):
            by_name = None
        if by_name is loss or (type(by_name) is type(loss) and isinstance(loss, _losses.Loss)
                               and by_name.get_config() == loss.get_config()):
            return loss_name
    return _losses.serialize(loss)


def _metric_entries(specs):
    from . import metrics as _metrics
    out = []
    for m in specs:
        if isinstance(m, type) and issubclass(m, _metrics.Metric):
            m = m()  # a class stands for its default instance
        if isinstance(m, str):
            out.append(m)
        elif isinstance(m, _metrics.Metric):
            out.append(_metrics.serialize(m))
        else:  # a metric function
            out.append(_registry.serialize(m, {}))
    return out


def _compile_state(model):
    """What ``compile`` was given, as JSON: the optimizer's config, the loss and the metrics. A
    model of several outputs saves them per output ("per_output": lists in output order)."""
    state = {"optimizer": _registry.serialize(model.optimizer, _optimizer_classes())}
    if len(model._output_names) > 1:
        state["per_output"] = True
        state["loss"] = [None if l is None else _loss_entry(l, n)
                         for l, n in zip(model._output_losses, model._output_loss_names)]
        state["metrics"] = [_metric_entries([m for m, w in specs if not w]) for specs in model._output_metric_specs]
        state["weighted_metrics"] = [_metric_entries([m for m, w in specs if w])
                                     for specs in model._output_metric_specs]
        state["loss_weights"] = [float(w) for w in model._loss_weights]
        return state
    state["loss"] = _loss_entry(model.loss, getattr(model, "loss_name", None))
    state["metrics"] = _metric_entries(getattr(model, "_metric_names", []))
    weighted = getattr(model, "_weighted_metric_names", None)
    if weighted:
        state["weighted_metrics"] = _metric_entries(weighted)
    loss_weight = getattr(model, "_loss_weight", 1.0)
    if loss_weight != 1.0:
        state["loss_weights"] = float(loss_weight)
    return state


def save_model(model, path):
    """Write ``model`` (architecture, weights, compile state and optimizer state) to ``path``.
    Warns, naming the object and the fix, about each custom object that ``load_model`` could
    not find again (not registered) or rebuild (constructor arguments missing from its config)."""
    with _registry.collecting() as custom:
        meta = {"format": FORMAT, "version": VERSION, "model": _registry.serialize(model, _model_classes())}
        if model.optimizer is not None:
            meta["compile"] = _compile_state(model)
    members = {"weights.npz": _npz_bytes(model.get_weights())}
    if model.optimizer is not None:
        state = model.optimizer.get_state() if model._optimizer_built else None
        if state is not None:
            meta["compile"]["optimizer_state"] = {"iterations": int(state["iterations"]),
                                                  "count": len(state["slots"])}
            members["optimizer.npz"] = _npz_bytes(state["slots"])
    seen = set()
    for target, d in custom:
        if id(target) in seen:
            continue
        seen.add(id(target))
        for why in _registry.problems(target, d):
            warnings.warn(f"save_model({path}): {why}", UserWarning, stacklevel=3)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("model.json", json.dumps(meta, indent=1))
        for name, data in members.items():
            zf.writestr(name, data)


def load_model(path, custom_objects=None, compile=True):
    """Rebuild a model saved with ``model.save(path)``: same architecture, weights and, when
    compiled, the same loss, metrics and optimizer state, so training resumes exactly where it
    stopped. Custom objects come from the registry or ``custom_objects`` (name -> class or
    function, the name being the class's or function's, or its registered name)."""
    from . import losses as _losses
    from . import metrics as _metrics
    custom_objects = _registry.check_custom_objects("load_model", custom_objects)
    if not isinstance(compile, bool):
        raise TypeError(f"load_model: compile must be True or False, got {compile!r}")
    with _open(path) as zf:
        meta = _header(zf, path)
        weights = _read_npz(zf, "weights.npz", path)
        comp = meta.get("compile")
        slots = _read_npz(zf, "optimizer.npz", path) if compile and comp and "optimizer_state" in comp else None
    with custom_object_scope(custom_objects):
        try:
            cls = _registry.resolve("model", meta["model"], _model_classes())
        except ValueError as e:
            raise ModelFileError(f"{path}: {e}") from None
        try:
            model = cls.from_config(meta["model"]["config"])
        except (KeyError, TypeError) as e:
            raise ModelFileError(f"{path}: the model config is invalid ({type(e).__name__}: {e})") from None
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None
        model.set_weights(weights)
        if compile and comp:
            if comp.get("loss") is None:
                raise ModelFileError(f"{path}: the file does not record the model's loss (an older pydl saved "
                                     "custom losses so); load it with compile=False and compile it again")
            def metric(m):
                return m if isinstance(m, str) else _metrics.get(m)
            try:
                if comp.get("per_output"):
                    loss = [None if l is None else _losses.get(l) for l in comp["loss"]]
                    metrics = {k: [[metric(m) for m in ms] for ms in comp[k]]
                               for k in ("metrics", "weighted_metrics") if k in comp}
                else:
                    loss = _losses.get(comp["loss"])
                    metrics = {k: [metric(m) for m in comp[k]] for k in ("metrics", "weighted_metrics") if k in comp}
                optimizer = _registry.deserialize("optimizer", _optimizer_classes(), comp["optimizer"])
            except ValueError as e:
                raise ValueError(f"{path}: {e}") from None
            extra = {"loss_weights": comp["loss_weights"]} if "loss_weights" in comp else {}
            model.compile(optimizer=optimizer, loss=loss, **metrics, **extra)
            if slots is not None:
                model._build_optimizer()
                model.optimizer.set_state({"iterations": comp["optimizer_state"]["iterations"], "slots": slots})
    return model


def save_weights(model, path):
    """Only the weights, as a .npz of arrays w0, w1, ... in ``model.weights`` order."""
    with open(path, "wb") as f:
        f.write(_npz_bytes(model.get_weights()))


def load_weights(model, path):
    """Load weights saved by ``save_weights`` (or a full model file) into a built model; all
    shapes are checked before any weight changes."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            if "model.json" in zf.namelist():
                _header(zf, path)
                arrays = _read_npz(zf, "weights.npz", path)
            else:
                zf.close()
                arrays = _read_plain(path)
    else:
        raise ModelFileError(f"{path} is not a pydl weights file")
    model.set_weights(arrays)


def _read_plain(path):
    try:
        with np.load(path, allow_pickle=False) as data:
            return [data[f"w{i}"] for i in range(len(data.files))]
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as e:
        raise ModelFileError(f"{path}: corrupted weights file ({e})") from None


def _clone_layer(layer):
    return type(layer).from_config(layer.get_config())


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with ``model``'s architecture and NEW weights, freshly drawn by each layer's
    initializers, and not compiled, as Keras's ``clone_model``. Copy the weights over with
    ``clone.set_weights(model.get_weights())``; ``copy.deepcopy(model)`` copies weights and
    compile state too.

    ``input_tensors``: an ``Input(shape=...)`` (or a list of them, one per model input) the
    clone starts from instead of the model's own inputs. ``clone_function(layer) -> layer`` makes
    each layer of the clone (default: ``type(layer).from_config(layer.get_config())``; not called
    for Input layers); returning the layer itself shares it, weights included, between the two
    models, as in Keras. A functional model's clone is wired as the model is.
    """
    from . import models as _models
    from .layers import Input, InputLayer, Layer
    if not isinstance(model, _models.Model):
        raise TypeError(f"clone_model: expected a pydl model (Sequential or Model), got {type(model).__name__}")
    if clone_function is not None and not callable(clone_function):
        raise TypeError(f"clone_model: clone_function must be a callable layer -> layer, got "
                        f"{type(clone_function).__name__}")
    if type(model) is _models.Functional:
        return _clone_functional(model, input_tensors, clone_function)
    if type(model) is not _models.Sequential and (input_tensors is not None or clone_function is not None):
        raise TypeError(f"clone_model: input_tensors and clone_function need a Sequential or functional model; "
                        f"{model.name} is a {type(model).__name__}: clone it without them")
    first = None
    if input_tensors is not None:
        inputs = list(input_tensors) if isinstance(input_tensors, (list, tuple)) else [input_tensors]
        if len(inputs) != 1 or not isinstance(inputs[0], Input):
            raise TypeError("clone_model: input_tensors must be one pydl.layers.Input(shape=...) (or a list of "
                            f"one) for a Sequential model, got {input_tensors!r}")
        first = inputs[0]
    elif isinstance(model, _models.Sequential) and model._layers and isinstance(model._layers[0], InputLayer):
        first = Input.from_config(model._layers[0].get_config())
    if type(model) is not _models.Sequential:
        clone = type(model).from_config(model.get_config())
    else:
        clone = _models.Sequential(name=model.name)
        if first is not None:
            clone.add(first)
        for layer in model.layers:
            new = (clone_function or _clone_layer)(layer)
            if not isinstance(new, Layer):
                raise TypeError(f"clone_model: clone_function returned {type(new).__name__} for layer "
                                f"{layer.name}; it must return a Layer")
            clone.add(new)
    if isinstance(clone, _models.Sequential) and not clone.built and clone.layers and \
            model._input_shape is not None and input_tensors is None:
        clone.build(tuple(model._input_shape))
    return clone


def _clone_functional(model, input_tensors, clone_function):
    from .layers import Input, InputLayer, Layer
    config = model.get_config()
    inputs = None
    if input_tensors is not None:
        inputs = list(input_tensors) if isinstance(input_tensors, (list, tuple)) else [input_tensors]
        if len(inputs) != len(model.inputs) or not all(isinstance(t, Input) for t in inputs):
            raise TypeError(f"clone_model: input_tensors must be {len(model.inputs)} pydl.Input(shape=...) tensor(s), "
                            f"one per input of {model.name}, got {input_tensors!r}")
    layers = {}
    for layer in model.layers:
        if isinstance(layer, InputLayer):
            if inputs is None:
                layers[layer.name] = InputLayer.from_config(layer.get_config())
            continue
        new = (clone_function or _clone_layer)(layer)
        if not isinstance(new, Layer):
            raise TypeError(f"clone_model: clone_function returned {type(new).__name__} for layer "
                            f"{layer.name}; it must return a Layer")
        layers[layer.name] = new
    return type(model)._rebuild(config, layers, inputs)
