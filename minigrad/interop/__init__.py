"""The torch twin: move models between minigrad (NHWC) and PyTorch (NCHW), and say where
two implementations of the same model part ways.

    to_torch(model, input_shape)              minigrad Module -> torch.nn.Module
    from_torch(torch_model, input_shape)      torch.nn.Module -> minigrad Module
    state_dict_to_torch(sd, model, input_shape) / state_dict_from_torch(torch_sd, model, input_shape)
    compare(model, torch_model, x, ...)       per-layer differences and the first divergent layer

``input_shape`` is minigrad's, NHWC with the batch: ``(N, H, W, C)`` (or ``(N, F)``).

How a model is converted:

* Layers in ``CONVERTERS`` (one entry per layer class: how to build the other side's layer,
  how to convert each weight and buffer both ways) become the other framework's layer; so
  does any parameter-free elementwise layer whose class name both frameworks have, built
  from the attributes its constructor takes (by name). Containers (``Sequential``,
  ``ModuleList``, ``ModuleDict``: children by name, a class both have) become the other
  framework's container, with the same child names, so parameter names and order match.
* Any other module is a hand-written forward. It is converted by *tracing*: the model runs
  once on zeros of ``input_shape``; the calls to its children and the tensor ops between
  them (``+``, ``relu``, ``flatten``, ``mean``, ``cat``, ...) are recorded and replayed by
  the twin (a ``torch.fx.GraphModule`` in PyTorch, a :class:`Traced` module in minigrad).
  Control flow that depends on values is not seen by a trace; a module that uses its own
  parameters outside a child, or an op the twin cannot translate, gets an error naming its
  class and path.
* Layouts: 4-D tensors are images, NHWC here and NCHW there. Conv kernels
  ``(KH, KW, C_in/G, C_out) <-> (C_out, C_in/G, KH, KW)``, Linear ``(in, out) <-> (out, in)``.
  A Flatten of an ``(N, H, W, C)`` map orders features ``(h, w, c)`` here and ``(c, h, w)``
  there, so the Linear (or BatchNorm1d) that consumes them gets its rows permuted; the
  trace follows that order through elementwise layers to the layer that absorbs it.

The package, one job per module (imports point down this list):

    layouts.py     IMAGE / PLAIN / (H, W, C) layouts, array conversions, NHWC <-> NCHW dims
    convert.py     the converter table (CONVERTERS), containers, the generic parameter-free rule
    functions.py   tensor ops between layers: their layouts and both frameworks' functions
    trace.py       tracing minigrad forwards (Op.apply wrapped) and PyTorch ones (torch.fx)
    twin.py        to_torch, from_torch, state_dict_to_torch, state_dict_from_torch
    compare.py     compare and its CompareReport
"""
from minigrad.interop.compare import CompareReport, Difference, LayerDifference, compare
from minigrad.interop.convert import CONVERTERS, Converter
from minigrad.interop.layouts import array_from_torch, array_to_torch, flat_permutation
from minigrad.interop.trace import Traced, trace
from minigrad.interop.twin import from_torch, state_dict_from_torch, state_dict_to_torch, to_torch

__all__ = ["to_torch", "from_torch", "state_dict_to_torch", "state_dict_from_torch", "compare",
           "CompareReport", "LayerDifference", "Difference", "Traced", "trace", "CONVERTERS", "Converter",
           "flat_permutation", "array_from_torch", "array_to_torch"]
