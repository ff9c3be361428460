"""Utilities: gradient checking, graph export, data helpers, convolution arithmetic."""
from .gradcheck import gradcheck, GradcheckResult  # noqa: F401
from .graph import graph  # noqa: F401
from .data_utils import to_categorical, normalize, scale_to_unit, split_validation  # noqa: F401
from .conv_utils import conv_output_shape  # noqa: F401
