"""compare(): run a model and its PyTorch twin on one batch, backpropagate one loss, and
report per layer where the two part ways (:class:`CompareReport`, with hints)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

import minigrad.functional as F
from minigrad import nn
from minigrad.interop.convert import converter_for
from minigrad.interop.layouts import IMAGE, array_from_torch, array_to_torch, default_layout, flat_permutation, \
    torch_module
from minigrad.interop.trace import Call, Trace, trace
from minigrad.interop.twin import to_torch
from minigrad.tensor import Tensor


TOLERANCES = {np.dtype(np.float64): (1e-8, 1e-6), np.dtype(np.float32): (1e-5, 1e-3)}    # (atol, rtol)
LOSSES = ("sum", "mse", "bce", "ce")
BCE_CLAMP = float(np.exp(-100))         # below this, BCE's log terms are clamped at -100


@dataclass(frozen=True)
class Difference:
    """max |a - b| and max |a - b| / max |b| of one quantity, and whether it is within tolerance."""
    abs: float
    rel: float
    ok: bool

    @classmethod
    def of(cls, mine: np.ndarray | None, reference: np.ndarray | None, atol: float, rtol: float) -> Difference:
        if mine is None and reference is None:
            return cls(0.0, 0.0, True)
        if mine is None or reference is None:
            present = mine if reference is None else reference
            mine, reference = (np.zeros_like(present), present) if mine is None else (present, np.zeros_like(present))
        if np.shape(mine) != np.shape(reference):
            return cls(float("inf"), float("inf"), False)
        gap = np.abs(np.asarray(mine, np.float64) - reference)
        scale = float(np.abs(reference).max(initial=0.0))
        rel = float(gap.max(initial=0.0)) / scale if scale else float(gap.max(initial=0.0))
        ok = bool(np.all(gap <= atol + rtol * np.abs(reference)))
        return cls(float(gap.max(initial=0.0)), rel, ok)

    def __str__(self) -> str:
        return f"{self.abs:.1e}/{self.rel:.1e}" + ("" if self.ok else " !")


@dataclass
class LayerDifference:
    """One layer call: its output, the gradient flowing into it from the loss (w.r.t. its
    output), its parameters' gradients and the gradient it passes on (w.r.t. its input)."""
    name: str
    output: Difference
    grad_output: Difference
    param_grads: dict
    grad_input: Difference
    weights_match: bool

    def first_failure(self, backward: bool) -> str | None:
        if not backward:
            return None if self.output.ok else "output"
        if not self.grad_output.ok:
            return "gradient w.r.t. its output"
        bad = [name for name, d in self.param_grads.items() if not d.ok]
        if bad:
            return f"gradient of {bad[0]}"
        return None if self.grad_input.ok else "gradient w.r.t. its input"


@dataclass
class CompareReport:
    """compare()'s result; ``first_divergent`` is the LayerDifference that first breaks the
    tolerance in the order the computation ran (None when all agree), ``first_quantity`` says
    which of its quantities, ``hints`` name known mistakes that match."""
    layers: list
    loss: tuple
    atol: float
    rtol: float
    first_divergent: LayerDifference | None = None
    first_quantity: str | None = None
    hints: list = field(default_factory=list)

    def __str__(self) -> str:
        width = max([len(r.name) for r in self.layers] + [5])
        head = f"   {'layer':<{width}}  {'output':<18}{'grad output':<18}{'param grads':<18}{'grad input':<18}"
        lines = [f"compare: loss minigrad {self.loss[0]:.10g}, PyTorch {self.loss[1]:.10g}; "
                 f"max abs/rel difference per quantity, ! = beyond atol={self.atol:g} rtol={self.rtol:g}",
                 head]
        for row in self.layers:
            worst = max(row.param_grads.values(), key=lambda d: (not d.ok, d.abs), default=None)
            mark = ">> " if row is self.first_divergent else "   "
            lines.append(f"{mark}{row.name:<{width}}  {str(row.output):<18}{str(row.grad_output):<18}"
                         f"{str(worst) if worst else '-':<18}{str(row.grad_input):<18}")
        if self.first_divergent is None:
            lines.append("no divergence: every output and gradient agrees within tolerance")
        else:
            lines.append(f"first divergent: {self.first_divergent.name} ({self.first_quantity})")
        lines.extend(f"hint: {hint}" for hint in self.hints)
        return "\n".join(line.rstrip() for line in lines)


def compare(model: nn.Module, torch_model=None, x: Any = None, target: Any = None, loss: str = "sum",
            atol: float | None = None, rtol: float | None = None) -> CompareReport:
    """Run ``model`` and its PyTorch twin on the same batch, backpropagate the same loss, and
    compare every layer's output, gradients and parameter gradients.

    x: minigrad's input (N, H, W, C) (array or Tensor), given to PyTorch as NCHW; target: for
    'mse' and 'bce' in the output's minigrad layout, for 'ce' integer classes (N,); loss:
    'sum' (of the output), 'mse', 'bce' or 'ce'. torch_model=None compares with
    ``to_torch(model, x.shape)``. Layers are matched by path (e.g. ``features.3``), so a
    twin made by to_torch/from_torch or any torch model with the same names works. Both
    models run in their current mode: call eval() on both for dropout. Both models' gradients
    are reset (to None) first, and hold this batch's afterwards. atol/rtol default to
    1e-8/1e-6 in float64 and 1e-5/1e-3 in float32.
    """
    torch = torch_module()
    if loss not in LOSSES:
        raise ValueError(f"compare: loss must be one of {LOSSES}, got {loss!r}")
    if x is None:
        raise ValueError("compare: x (the NHWC input batch) is required")
    x = np.asarray(getattr(x, "data", x))
    default_atol, default_rtol = TOLERANCES.get(x.dtype, TOLERANCES[np.dtype(np.float32)])
    atol, rtol = (default_atol if atol is None else atol), (default_rtol if rtol is None else rtol)
    if torch_model is None:
        torch_model = to_torch(model, x.shape)
    model.zero_grad(), torch_model.zero_grad()            # gradients of this batch only
    xm = Tensor(x.astype(_float_dtype(model.parameters(), x.dtype)), requires_grad=True)
    record = trace(model, xm, conversion=False)
    for call in record.calls:
        for t in (first_value(call.output), *call.inputs[:1]):
            if isinstance(t, Tensor) and t.requires_grad and not t.is_leaf:
                t.retain_grad()
    mine_loss = _minigrad_loss(loss, record.output, target)
    mine_loss.backward()
    torch_calls, torch_loss = _run_torch(torch, torch_model, x, target, loss, record)
    rows = []
    modules = dict(torch_model.named_modules())
    counts = {}
    for call in record.calls:
        k = counts[call.path] = counts.get(call.path, 0) + 1
        if len(torch_calls.get(call.path, ())) < k:
            raise ValueError(f"compare: the PyTorch model has no call of a layer at {call.path!r} "
                             f"({type(call.module).__name__}) to match minigrad's")
        rows.append(_layer_difference(call, k, torch_calls[call.path][k - 1], modules[call.path], atol, rtol))
    report = CompareReport(rows, (float(mine_loss.item()), float(torch_loss)), atol, rtol)
    for backward, order in ((False, rows), (True, rows[::-1])):
        found = next(((row, row.first_failure(backward)) for row in order if row.first_failure(backward)), None)
        if found:
            report.first_divergent, report.first_quantity = found
            break
    if report.first_divergent is not None:
        position = rows.index(report.first_divergent)
        call = record.calls[position]
        report.hints = _hints(report, call, modules[call.path], record.output.data, loss, x, torch_model)
    return report


def _minigrad_loss(loss: str, output: Tensor, target: Any) -> Tensor:
    if loss == "sum":
        return output.sum()
    if target is None:
        raise ValueError(f"compare: loss={loss!r} needs a target")
    target = np.asarray(getattr(target, "data", target))
    if loss == "ce":
        return F.cross_entropy(output, Tensor(target))
    target = Tensor(target.astype(output.dtype))
    return F.mse_loss(output, target, reduction="sum") if loss == "mse" else \
        F.binary_cross_entropy(output, target, reduction="sum")


def _float_dtype(parameters, default: np.dtype) -> np.dtype:
    """The dtype a model computes in (its first float parameter's), so each side gets the batch
    in its own precision, as both libraries refuse mixed dtypes; ``default`` without one."""
    return next((np.dtype(p.dtype) for p in parameters if np.dtype(p.dtype).kind == "f"), default)


def _run_torch(torch, torch_model, x: np.ndarray, target: Any, loss: str, record: Trace):
    """Forward and backward of the torch model with hooks: path -> [(inputs, output)] per call."""
    calls, handles = {}, []
    paths = {call.path for call in record.calls}

    def pre_hook(path):
        def hook(module, args):
            calls.setdefault(path, []).append([args, None])
            for a in args[:1]:
                if a.requires_grad and a.grad_fn is not None:
                    a.retain_grad()
            return tuple(a.clone() if torch.is_tensor(a) else a for a in args)  # in-place layers keep ours intact
        return hook

    def hook(path):
        def after(module, args, output):
            output = first_value(output)
            if output.requires_grad and output.grad_fn is not None:
                output.retain_grad()
            calls[path][-1][1] = output
        return after

    for path, module in torch_model.named_modules():
        if path in paths:
            handles += [module.register_forward_pre_hook(pre_hook(path)), module.register_forward_hook(hook(path))]
    dtype = _float_dtype((p.detach().numpy() for p in torch_model.parameters()), x.dtype)
    xt = torch.from_numpy(array_to_torch(x, default_layout(x.shape)).astype(dtype)).requires_grad_(True)
    try:
        out = torch_model(xt)
    finally:
        for handle in handles:
            handle.remove()
    out_layout = record.layout_of(record.output)
    out = _torch_to_minigrad_layout(torch, out, out_layout)
    tf = torch.nn.functional
    if loss == "sum":
        value = out.sum()
    else:
        t = torch.from_numpy(np.asarray(getattr(target, "data", target)))
        value = (tf.cross_entropy(out, t.long(), reduction="mean") if loss == "ce" else
                 tf.mse_loss(out, t.to(out.dtype), reduction="sum") if loss == "mse" else
                 tf.binary_cross_entropy(out, t.to(out.dtype), reduction="sum"))
    value.backward()
    return calls, value.item()


def _torch_to_minigrad_layout(torch, value, layout):
    if layout == IMAGE:
        return value.permute(0, 2, 3, 1)
    if isinstance(layout, tuple):
        return value[..., torch.from_numpy(flat_permutation(layout))]
    return value


def first_value(output: Any) -> Any:
    """A layer's output, or the first of the values it returns (a pool's (output, indices))."""
    return output[0] if isinstance(output, tuple) else output


def _numpy(t) -> np.ndarray | None:
    return None if t is None else t.detach().cpu().numpy()


def _layer_difference(call: Call, k: int, torch_call, torch_layer, atol: float, rtol: float) -> LayerDifference:
    (torch_args, torch_out), entry = torch_call, converter_for(call.module)
    name = f"{call.path or '(root)'}: {type(call.module).__name__}" + (f" (call {k})" if k > 1 else "")
    grad = lambda t: None if t is None or t.grad is None else np.asarray(t.grad.data)  # noqa: E731
    out = first_value(call.output)
    output = Difference.of(out.data, array_from_torch(_numpy(torch_out), call.output_layout), atol, rtol)
    # A pass-through layer (Identity) returns its input itself: its output's gradient is then the
    # input's whole gradient (a residual's shortcut and main path summed). The torch side ran on a
    # clone of the input, whose gradient is the shortcut's share only: compare with the input's.
    torch_grad_out = torch_args[0] if out is call.inputs[0] else torch_out
    grad_output = Difference.of(grad(out), _from_torch_grad(torch_grad_out, call.output_layout), atol, rtol)
    grad_input = Difference.of(grad(call.inputs[0]), _from_torch_grad(torch_args[0], call.input_layout), atol, rtol)
    params, weights_match = {}, True
    for pname, p in call.module._parameters.items():
        if p is None:
            continue
        tp = getattr(torch_layer, pname)
        convert = entry.arrays[pname][1]
        tgrad = None if tp.grad is None else convert(_numpy(tp.grad), call.input_layout)
        params[pname] = Difference.of(grad(p), tgrad, atol, rtol)
        weights_match &= Difference.of(p.data, convert(_numpy(tp), call.input_layout), atol, rtol).ok
    return LayerDifference(name, output, grad_output, params, grad_input, weights_match)


def _from_torch_grad(t, layout) -> np.ndarray | None:
    if t is None or t.grad is None:
        return None
    return array_from_torch(_numpy(t.grad), layout)


def _hints(report: CompareReport, call: Call, torch_layer, prediction: np.ndarray, loss: str,
           x: np.ndarray, torch_model) -> list:
    """Known mistakes that match the first divergent layer."""
    hints = []
    torch_dtype = next((p.dtype for p in torch_model.parameters()), None)
    mine_dtype = next((p.dtype for p in call.module.parameters()), x.dtype)
    if torch_dtype is not None and str(torch_dtype).replace("torch.", "") != np.dtype(mine_dtype).name:
        hints.append(f"float32 vs float64: minigrad computes in {np.dtype(mine_dtype).name}, PyTorch in "
                     f"{str(torch_dtype).replace('torch.', '')}; differences near that precision are rounding")
    weight = call.module._parameters.get("weight")
    if weight is not None and not report.first_divergent.weights_match:
        raw = _numpy(torch_layer.weight)
        converted = converter_for(call.module).arrays["weight"][1](raw, call.input_layout)
        name = type(call.module).__name__
        if raw.size == weight.data.size and np.allclose(raw.reshape(weight.shape), weight.data):
            hints.append(f"layout not converted: {call.path}.weight holds PyTorch's {raw.shape} layout as is; "
                         f"convert with interop.state_dict_from_torch / state_dict_to_torch")
        elif name == "Conv2d" and np.allclose(converted.transpose(1, 0, 2, 3), weight.data):
            hints.append(f"transposed kernel: {call.path}.weight equals PyTorch's kernel with KH and KW "
                         f"swapped; (C_out, C_in, KH, KW) -> (KH, KW, C_in, C_out) is transpose(2, 3, 1, 0)")
        elif name == "Linear" and isinstance(call.input_layout, tuple) and np.allclose(raw.T, weight.data):
            hints.append(f"flatten order: {call.path} follows a Flatten of an (H, W, C) = {call.input_layout} "
                         f"map; PyTorch flattens (c, h, w), minigrad (h, w, c), so its rows need the "
                         f"permutation interop.state_dict_from_torch applies")
        else:
            hints.append(f"the weights differ: {call.path} does not hold the same parameters in both models")
    if type(call.module).__name__ == "MaxPool2d" and report.first_quantity != "output":
        window_input = call.inputs[0].data
        if np.unique(window_input).size < window_input.size:
            hints.append("max-pool ties: the input holds equal values; with ties minigrad and PyTorch send "
                         "the gradient to the first maximum of each window, another rule sends it elsewhere")
    if loss == "bce":
        if np.any(prediction <= BCE_CLAMP) or np.any(prediction >= 1.0):
            hints.append("BCE clamp: some probabilities are exactly 0 or 1, where BCE clamps its log terms "
                         "at -100; a model or loss that clamps or rounds differently there diverges, so "
                         "compare on inputs that do not saturate the sigmoid")
    return hints
