"""NumPy-only math. Importing this package registers every op in ``minigrad.ops.base.OPS``."""
from minigrad.ops import (  # noqa: F401  (importing registers the ops)
    activation, conv, elementwise, linalg, loss, normalization, pool, reduce, shape)
