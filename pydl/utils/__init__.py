"""Utilities: gradient checking, graph export, data helpers, convolution arithmetic, sequences and text."""
from .gradcheck import gradcheck, GradcheckResult  # noqa: F401
from .graph import graph  # noqa: F401
from .data_utils import to_categorical, normalize, scale_to_unit, split_validation  # noqa: F401
from .conv_utils import conv_output_shape  # noqa: F401
from .inspect import layer_outputs  # noqa: F401
from .sequences import (pad_sequences, timeseries_dataset_from_array, make_windows,  # noqa: F401
                        MinMaxScaler, StandardScaler, gradient_through_time)
from .text import TextVectorization  # noqa: F401
