"""NumPy-only math. Importing this package registers every op in ``minigrad.autograd.OPS``."""
from minigrad.ops import elementwise, linalg, reduce, shape  # noqa: F401  (registers the ops)
