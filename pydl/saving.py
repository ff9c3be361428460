"""Saving and loading models without pickle.

A model file is a zip of three members:
    model.json     {"format": "pydl-model", "version": 1, "model": config, "compile": ...}
    weights.npz    the layer weights, w0, w1, ... in model.weights order
    optimizer.npz  the optimizer's state (slots and step count), when compiled
Loading reads JSON and NumPy arrays (``allow_pickle=False``), so nothing in a file is ever
executed, and it checks everything before it assigns anything: a bad file leaves no
half-loaded model.
"""
import io
import json
import zipfile

import numpy as np

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


def save_model(model, path):
    from . import optimizers as _opt
    meta = {"format": FORMAT, "version": VERSION, "model": {"class_name": type(model).__name__,
                                                           "config": model.get_config()}}
    members = {"weights.npz": _npz_bytes(model.get_weights())}
    if model.optimizer is not None:
        meta["compile"] = {"loss": model.loss_name if isinstance(model.loss_name, str) else None,
                           "metrics": [m for m in model._metric_names if isinstance(m, str)],
                           "optimizer": _opt.serialize(model.optimizer)}
        state = model.optimizer.get_state() if model._optimizer_built else None
        if state is not None:
            meta["compile"]["optimizer_state"] = {"iterations": int(state["iterations"]),
                                                  "count": len(state["slots"])}
            members["optimizer.npz"] = _npz_bytes(state["slots"])
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("model.json", json.dumps(meta, indent=1))
        for name, data in members.items():
            zf.writestr(name, data)


def load_model(path, compile=True):
    """Rebuild a model saved with ``model.save(path)``: same architecture, weights and, when
    compiled, the same optimizer state, so training resumes exactly where it stopped."""
    from . import models as _models
    from . import optimizers as _opt
    with _open(path) as zf:
        meta = _header(zf, path)
        weights = _read_npz(zf, "weights.npz", path)
        comp = meta.get("compile")
        slots = _read_npz(zf, "optimizer.npz", path) if compile and comp and "optimizer_state" in comp else None
    cls = {"Sequential": _models.Sequential}.get(meta["model"].get("class_name"))
    if cls is None:
        raise ModelFileError(f"{path}: unknown model class {meta['model'].get('class_name')!r}")
    try:
        model = cls.from_config(meta["model"]["config"])
    except (KeyError, TypeError) as e:
        raise ModelFileError(f"{path}: the model config is invalid ({e})") from None
    model.set_weights(weights)
    if compile and comp:
        model.compile(optimizer=_opt.deserialize(comp["optimizer"]), loss=comp["loss"], metrics=comp["metrics"])
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
