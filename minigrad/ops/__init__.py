"""NumPy-only math. Importing this package registers every op in ``minigrad.ops.base.OPS``."""
from minigrad.ops import (  # noqa: F401  (importing registers the ops)
    activation, conv, einsum, elementwise, index, join, linalg, loss, math, nonlinearity,
    normalization, pool, reduce, regression_loss, select, shape)
