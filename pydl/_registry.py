"""Name lookups shared by the Keras-style modules: `get('glorot_uniform')` and friends.

Unknown names raise a ValueError that lists the valid ones, so a typo tells you the fix.
"""


def lookup(kind, table, identifier):
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in table:
            return table[key]
        raise ValueError(f"Unknown {kind} '{identifier}'. Valid names: {', '.join(sorted(table))}")
    raise TypeError(f"Could not interpret {kind} {identifier!r}: give a name or an instance")


def camel_to_snake(name):
    out = []
    for i, c in enumerate(name):
        if c.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(c.lower())
    return "".join(out)


class Configurable:
    """Objects described by their constructor's arguments: ``cls(**obj.get_config())`` rebuilds
    them, which is how models are saved without pickle."""

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def serialize(obj):
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def deserialize(kind, classes, d):
    """Rebuild one of ``classes`` (name -> class) from ``serialize``'s dict; only known classes."""
    cls = classes.get(d.get("class_name"))
    if cls is None:
        raise ValueError(f"Unknown {kind} class {d.get('class_name')!r}; known: {', '.join(sorted(classes))}")
    return cls.from_config(d.get("config", {}))
