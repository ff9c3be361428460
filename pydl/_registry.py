"""Name lookups shared by the Keras-style modules, and the one registry of custom objects.

``get('glorot_uniform')`` and friends: unknown names raise a ValueError that lists the valid
ones, so a typo tells you the fix.

Custom objects (your own layers, losses, metrics, activations, initializers, regularizers)
are found again when a model is loaded through one registry, as in Keras 3:

    @pydl.saving.register_serializable(package="my_course")
    class Scale(pydl.layers.Layer): ...          # saved as "my_course>Scale"

or by passing them at load time: ``load_model(path, custom_objects={"Scale": Scale})``. A
file only ever names an object; the object itself comes from your running code (the
registry, ``custom_objects`` or pydl's built-ins), never from the file: nothing is imported
or evaluated from what a file says.
"""
import contextlib
import inspect
import os
import re
import threading
import types

# "package>name" -> the class or function registered under it, and back.
_REGISTERED = {}
_REGISTERED_NAMES = {}
# Dicts pushed by custom_object_scope (innermost last), per thread.
_scopes = threading.local()
# While a model is being saved: the custom objects serialize() met, to check them.
_collected = threading.local()


def lookup(kind, table, identifier):
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in table:
            return table[key]
        raise ValueError(f"Unknown {kind} '{identifier}'. Valid names: {', '.join(sorted(table))}")
    raise TypeError(f"Could not interpret {kind} {identifier!r}: give a name or an instance")


def camel_to_snake(name):
    """Keras's default names: 'Dense' -> 'dense', 'Conv2D' -> 'conv2d', 'MaxPooling2D' ->
    'max_pooling2d', 'BatchNormalization' -> 'batch_normalization' (Keras 3's rule: an
    underscore before each capitalised word and between a lower-case letter and a capital)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


class Configurable:
    """Objects described by their constructor's arguments: ``cls(**obj.get_config())`` rebuilds
    them, which is how models are saved without pickle."""

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


# ---------------------------------------------------------------- registering
def register_serializable(package="Custom", name=None):
    """Decorator registering a class or function under ``"package>name"`` (``name`` defaults to
    its ``__name__``), so a saved model that uses it loads without ``custom_objects``, as Keras's
    ``register_keras_serializable``. A class needs ``get_config()``. Registering a name again
    replaces the earlier object (re-running a notebook cell redefines the class)."""
    if not isinstance(package, str) or not package or ">" in package:
        raise ValueError(f"register_serializable: package must be a non-empty string without '>', got {package!r}")
    if name is not None and (not isinstance(name, str) or not name or ">" in name):
        raise ValueError(f"register_serializable: name must be a non-empty string without '>', got {name!r}")

    def decorator(obj):
        if not callable(obj):
            raise TypeError(f"register_serializable: expected a class or a function, got {type(obj).__name__}")
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError(f"register_serializable: class {obj.__name__} has no get_config() method, so it "
                             "cannot be saved; define get_config() returning its constructor arguments")
        key = f"{package}>{name or obj.__name__}"
        old = _REGISTERED.get(key)
        if old is not None:
            _REGISTERED_NAMES.pop(old, None)
        _REGISTERED[key] = obj
        _REGISTERED_NAMES[obj] = key
        return obj

    return decorator


def get_registered_name(obj):
    """The name ``obj`` (a class or function) is registered under, else its ``__name__``."""
    try:
        return _REGISTERED_NAMES[obj]
    except (KeyError, TypeError):
        return getattr(obj, "__name__", type(obj).__name__)


def get_registered_object(name, custom_objects=None):
    """What ``name`` refers to: looked up in the innermost ``custom_object_scope`` first, then
    ``custom_objects``, then the registry; None when none has it."""
    for scope in reversed(getattr(_scopes, "stack", [])):
        if name in scope:
            return scope[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return _REGISTERED.get(name)


class custom_object_scope:
    """``with custom_object_scope({"Scale": Scale}): ...``: names that lookups inside the block
    also find (what ``load_model(custom_objects=...)`` uses), as Keras's."""

    def __init__(self, *custom_objects):
        merged = {}
        for d in custom_objects:
            merged.update(check_custom_objects("custom_object_scope", d))
        self.custom_objects = merged

    def __enter__(self):
        if not hasattr(_scopes, "stack"):
            _scopes.stack = []
        _scopes.stack.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scopes.stack.pop()


def check_custom_objects(where, custom_objects):
    if custom_objects is None:
        return {}
    if not isinstance(custom_objects, dict):
        raise TypeError(f"{where}: custom_objects must be a dict of name -> class or function, "
                        f"got {type(custom_objects).__name__}")
    for k, v in custom_objects.items():
        if not isinstance(k, str) or not callable(v):
            raise TypeError(f"{where}: custom_objects maps names (str) to classes or functions; got "
                            f"{k!r}: {type(v).__name__}")
    return custom_objects


# ---------------------------------------------------------------- serializing
def _is_function(obj):
    return isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType))


def is_custom(obj, builtins):
    """Whether ``obj`` (a class, function or instance) is not one of ``builtins`` (name -> object)."""
    target = obj if _is_function(obj) or isinstance(obj, type) else type(obj)
    return builtins.get(getattr(target, "__name__", None)) is not target


def serialize(obj, builtins=None):
    """``{"class_name": ..., "config": ...}`` for an object with ``get_config`` (an instance),
    ``{"class_name": "function", "config": name}`` for a function. Given ``builtins`` (name ->
    class or function), an object not among them also gets ``"registered_name"`` (the key that
    finds it again: its registered name, else its ``__name__``) and ``"module"`` (where it
    was defined, for messages only: loading never imports anything)."""
    if _is_function(obj):
        d = {"class_name": "function", "config": obj.__name__}
        target = obj
    elif hasattr(obj, "get_config") and not isinstance(obj, type):
        d = {"class_name": type(obj).__name__, "config": obj.get_config()}
        target = type(obj)
    else:
        raise ValueError(f"cannot save {obj!r}: give it a get_config() method (returning its constructor "
                         "arguments) or make it a plain function")
    if builtins is not None and is_custom(obj, builtins):
        d["registered_name"] = get_registered_name(target)
        d["module"] = getattr(target, "__module__", None)
        found = getattr(_collected, "items", None)
        if found is not None:
            found.append((target, d))
    return d


@contextlib.contextmanager
def collecting():
    """Within the block, every custom object ``serialize`` meets is appended to the yielded list
    as (class or function, entry); ``save_model`` checks them with ``problems``."""
    outer = getattr(_collected, "items", None)
    _collected.items = []
    try:
        yield _collected.items
    finally:
        _collected.items = outer


def problems(target, d):
    """Why a custom object saved as entry ``d`` would not come back from the file: not findable
    by name (not registered, a lambda), or constructor arguments its config leaves out. A list
    of sentences, empty when it will load."""
    name = d.get("registered_name")
    code = getattr(target, "__code__", None)
    if code is not None:
        where = f"defined at {os.path.basename(code.co_filename)}:{code.co_firstlineno}"
    else:
        module = getattr(target, "__module__", None)
        where = f"defined in module {module}" if module else "defined in your code"
    if "<locals>" in getattr(target, "__qualname__", ""):
        where += ", inside a function"
    kind = "class" if isinstance(target, type) else "function"
    out = []
    if _REGISTERED.get(name) is None:  # (a class redefined and registered again is found by name)
        if getattr(target, "__name__", "") == "<lambda>":
            out.append(f"the lambda ({where}) has no name to be found by: write it as a def and decorate it "
                       "with @pydl.saving.register_serializable()")
        else:
            out.append(f"the {kind} {name!r} ({where}) is not registered, so load_model cannot find it by "
                       f"itself: decorate it with @pydl.saving.register_serializable() (and define it before "
                       f"loading), or pass custom_objects={{{name!r}: {name}}} to load_model")
    if isinstance(target, type) and isinstance(d.get("config"), dict):
        try:
            params = inspect.signature(target.__init__).parameters.values()
        except (TypeError, ValueError):
            params = []
        # Layer folds input_dim / batch_input_shape into input_shape, which it saves when given
        missing = [p.name for p in params if p.name not in ("self", "input_shape", "input_dim", "batch_input_shape")
                   and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in d["config"]]
        if missing:
            out.append(f"{name}.__init__ takes {', '.join(map(repr, missing))} but get_config() does not return "
                       f"{'it' if len(missing) == 1 else 'them'}, so the loaded object would be built with "
                       "defaults (or fail): override get_config() to return every constructor argument")
    return out


def resolve(kind, d, builtins, custom_objects=None):
    """The class or function a ``serialize`` entry names. A custom entry is looked up only in
    the scopes, ``custom_objects`` and the registry (by registered name, then class name),
    never among built-ins of the same name; a built-in entry only among ``builtins``."""
    if not isinstance(d, dict):
        raise ValueError(f"could not read a saved {kind}: expected a dict with 'class_name', got {d!r}")
    class_name = d.get("class_name")
    name = d.get("config") if class_name == "function" else class_name
    registered = d.get("registered_name")
    if not isinstance(name, str) or not (registered is None or isinstance(registered, str)):
        raise ValueError(f"could not read a saved {kind}: its name is {name!r} (registered as {registered!r}); "
                         "names are strings")
    if registered is not None:
        for key in (registered, name):
            obj = get_registered_object(key, custom_objects)
            if obj is not None:
                return obj
        where = f" (defined in module {d['module']})" if d.get("module") else ""
        raise ValueError(f"Unknown {kind} {registered!r}{where}: the file names a custom object that neither "
                         f"the registry nor custom_objects holds. Define it and decorate it with "
                         f"@pydl.saving.register_serializable(), or pass custom_objects={{{name!r}: {name}}} "
                         "to load_model")
    if class_name == "function":
        obj = builtins.get(name)
    else:
        obj = builtins.get(class_name)
        if obj is None:
            # files written before custom objects carried a registered name
            obj = get_registered_object(class_name, custom_objects)
    if obj is None:
        raise ValueError(f"Unknown {kind} class {name!r}; known: {', '.join(sorted(builtins))} (a custom "
                         f"one needs @pydl.saving.register_serializable() or load_model(custom_objects=...))")
    return obj


def deserialize(kind, classes, d, custom_objects=None):
    """Rebuild one of ``classes`` (name -> class), or a custom object, from ``serialize``'s dict."""
    obj = resolve(kind, d, classes, custom_objects)
    if d.get("class_name") == "function":
        return obj
    config = d.get("config", {})
    if not isinstance(config, dict):
        raise ValueError(f"could not read a saved {kind} {d.get('class_name')!r}: its config is {config!r}")
    if not isinstance(obj, type):  # a function registered where a class was saved
        raise TypeError(f"{kind} {d.get('class_name')!r}: the file saved a class but {obj!r} is not one")
    if hasattr(obj, "from_config"):
        return obj.from_config(config)
    return obj(**config)
