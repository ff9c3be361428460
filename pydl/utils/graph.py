"""The computational graph behind a tensor, as Graphviz DOT text (the picture the course draws).

    print(pydl.utils.graph(loss))   # paste into any Graphviz viewer, or `dot -Tpng`
"""


def _shape(t):
    return "(" + ", ".join(str(s) for s in t.shape) + ("," if len(t.shape) == 1 else "") + ")"


def graph(t, name="output"):
    """DOT text: one box per leaf tensor (its shape), one ellipse per op's backward node,
    arrows in the forward direction (inputs -> op -> output)."""
    lines = ["digraph pydl {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    out_id = "out"
    lines.append(f'  {out_id} [label="{name}\\n{_shape(t)}", shape=box, style=filled, fillcolor="#d5e8d4"];')
    root = t.grad_fn
    if root is None:
        lines.append("}")
        return "\n".join(lines)
    ids = {}

    def node_id(n):
        key = id(n)
        if key not in ids:
            ids[key] = f"n{len(ids)}"
        return ids[key]

    # Iterative walk: deep graphs must not hit Python's recursion limit.
    seen, stack, keep = set(), [root], []
    lines.append(f"  {node_id(root)} -> {out_id};")
    while stack:
        n = stack.pop()
        keep.append(n)  # keep wrappers alive so id() stays unique
        nid = node_id(n)
        if nid in seen:
            continue
        seen.add(nid)
        var = n.variable
        if var is not None:
            lines.append(f'  {nid} [label="leaf\\n{_shape(var)}", shape=box, style=filled, fillcolor="#dae8fc"];')
        else:
            lines.append(f'  {nid} [label="{n.name()}", shape=ellipse];')
        for child, _ in n.next_functions:
            if child is None:
                continue
            keep.append(child)
            lines.append(f"  {node_id(child)} -> {nid};")
            stack.append(child)
    lines.append("}")
    return "\n".join(lines)
