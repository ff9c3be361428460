"""Functional forms of the layers' maths (``pydl.functional.relu(x)``), one C++ op each."""
from ._C import (  # noqa: F401
    linear, relu, leaky_relu, elu, sigmoid, tanh, softmax, log_softmax,
    dropout,
)

__all__ = ["linear", "relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "log_softmax", "dropout"]
