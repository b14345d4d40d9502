"""minigrad: a define-by-run autograd tensor library on NumPy for convolutional networks."""
from minigrad.autograd import detect_anomaly, enable_grad, is_grad_enabled, no_grad
from minigrad.creation import arange, eye, full, ones, ones_like, rand, randn, zeros, zeros_like
from minigrad.dtypes import get_default_dtype, set_default_dtype
from minigrad.gradcheck import GradcheckError, gradcheck
from minigrad.io import load, save
from minigrad.random import manual_seed
from minigrad.tensor import Tensor, as_tensor, from_numpy, matmul, maximum, minimum, tensor
from minigrad import viz_notes  # noqa: F401,E402  (notes what viz draws, as graphs are built)
from minigrad import autograd, data, functional, nn, optim  # noqa: E402  (mg.nn, mg.optim, ... as in torch)

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
]
