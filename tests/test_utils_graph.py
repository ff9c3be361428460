"""pydl.utils.graph: DOT text of the graph behind a tensor."""
import re

import pydl
from pydl.utils import graph


def test_dot_names_every_op_and_the_leaves():
    w = pydl.tensor([[1.0, 2.0]], requires_grad=True)
    x = pydl.tensor([[3.0], [4.0]])
    y = pydl.functional.relu(w @ x + 1.0).sum()
    dot = graph(y, name="loss")
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    for op in ("MatmulBackward", "AddBackward", "ReluBackward", "SumBackward"):
        assert op in dot, op
    assert "leaf\\n(1, 2)" in dot  # the parameter, with its shape
    assert "loss\\n()" in dot
    # edges point forward: every node id that appears in an edge is declared
    ids = set(re.findall(r"^\s*(\w+) \[", dot, re.M))
    for a, b in re.findall(r"^\s*(\w+) -> (\w+);", dot, re.M):
        assert a in ids and b in ids


def test_shared_nodes_drawn_once():
    x = pydl.tensor([1.0], requires_grad=True)
    a = x * 2
    y = (a + a).sum()
    dot = graph(y)
    assert dot.count('label="MulBackward"') == 1
    assert dot.count("leaf\\n(1,)") == 1


def test_graph_of_a_leaf_or_constant():
    dot = graph(pydl.zeros(2, 3))
    assert "digraph" in dot and "(2, 3)" in dot and "Backward" not in dot


def test_deep_graph_does_not_hit_recursion_limit():
    x = pydl.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y + 1.0
    dot = graph(y)
    assert dot.count("AddBackward") == 5000
