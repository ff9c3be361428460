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
