"""What ``minigrad.viz`` draws that exists only while a graph is built or run.

Loaded with minigrad (drawing needs graphviz, noting does not), so graphs built before
``minigrad.viz`` is imported can still be drawn. A record hook notes in ``node.notes`` the
inputs' (shape, dtype) (``input_meta``) and the bytes the saved arrays hold
(``saved_nbytes``); inside ``record_grad_norms()`` a gradient hook notes the norm of the
gradient reaching each node (``grad_norm``).
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

from minigrad import autograd


class _Flags(threading.local):
    grad_norms = False


_flags = _Flags()


class record_grad_norms(autograd.Mode):
    """Backward inside (in this thread) stores each node's incoming gradient norm
    (``node.notes["grad_norm"]``) for ``minigrad.viz``; off by default, since it costs a
    pass over every gradient."""
    state, key, value = _flags, "grad_norms", True


def _note_inputs(node: autograd.Node, inputs: list, output: Any) -> None:
    node.notes["input_meta"] = tuple((t.shape, t.dtype) for t in inputs)
    arrays = {id(a): a for a in autograd.saved_arrays(node.saved)}      # each array once
    node.notes["saved_nbytes"] = sum(a.nbytes for a in arrays.values())


def _note_grad_norm(node: autograd.Node, g: np.ndarray) -> None:
    if _flags.grad_norms:
        node.notes["grad_norm"] = float(np.linalg.norm(g))


autograd.record_hooks.append(_note_inputs)
autograd.gradient_hooks.append(_note_grad_norm)
