"""minigrad: a define-by-run autograd tensor library on NumPy for convolutional networks."""
from minigrad.autograd import detect_anomaly, enable_grad, is_grad_enabled, no_grad
from minigrad.creation import arange, eye, full, ones, ones_like, rand, randn, zeros, zeros_like
from minigrad.dtypes import get_default_dtype, set_default_dtype
from minigrad.gradcheck import GradcheckError, gradcheck
from minigrad.io import load, save
from minigrad.random import manual_seed
from minigrad.tensor import Tensor, as_tensor, from_numpy, matmul, maximum, minimum, tensor
from minigrad import viz_notes  # noqa: F401,E402  (notes what viz draws, as graphs are built)
from minigrad import tensor_functions as _tensor_functions
from minigrad.tensor_functions import *  # noqa: F401,F403  (mg.max, mg.cat, mg.where, ...)
import numpy as _np

# PyTorch's dtype names, as NumPy dtypes (``x.dtype == mg.float32``). Like torch.float, they
# shadow builtins in this module only: nothing below uses float, int or bool.
float32 = float = _np.dtype(_np.float32)
float64 = double = _np.dtype(_np.float64)
float16 = half = _np.dtype(_np.float16)
int64 = long = _np.dtype(_np.int64)
int32 = int = _np.dtype(_np.int32)
int16 = short = _np.dtype(_np.int16)
int8 = _np.dtype(_np.int8)
uint8 = _np.dtype(_np.uint8)
bool = _np.dtype(_np.bool_)
_DTYPE_NAMES = ["float32", "float", "float64", "double", "float16", "half", "int64", "long", "int32",
          "int", "int16", "short", "int8", "uint8", "bool"]
from minigrad import autograd, data, functional, nn, optim  # noqa: E402  (mg.nn, mg.optim, ... as in torch)
from minigrad.ops import workspace as _workspace  # noqa: E402

_workspace.keep_freed_memory()         # freed arrays' memory is reused, not handed back (workspace.py)

__version__ = "0.1.0"


def __getattr__(name: str):
    """``mg.viz`` is imported on first use: it needs the optional graphviz package."""
    if name == "viz":
        import importlib

        return importlib.import_module("minigrad.viz")
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")

__all__ = [
    "Tensor", "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "zeros_like",
    "ones_like", "rand", "randn", "arange", "eye", "no_grad", "enable_grad", "is_grad_enabled",
    "detect_anomaly", "manual_seed", "set_default_dtype", "get_default_dtype", "gradcheck",
    "GradcheckError", "matmul", "maximum", "minimum", "save", "load",
    "autograd", "data", "functional", "nn", "optim",
] + _tensor_functions.__all__ + _DTYPE_NAMES
