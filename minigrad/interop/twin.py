"""to_torch / from_torch and the state-dict conversions: the twin built layer by layer from
the converter table, containers child by child, hand-written forwards from their traces."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from minigrad import nn
from minigrad.interop.convert import SUPPORTED, build_container, converter_for, is_container, label, \
    torch_converter_for
from minigrad.interop.layouts import PLAIN, torch_module
from minigrad.interop.trace import Trace, example_input, fx_graph, torch_inputs, trace, traced_from_fx


def to_torch(model: nn.Module, input_shape: tuple):
    """The PyTorch twin of ``model`` (NCHW), with every weight and buffer converted.

    input_shape: minigrad's input shape with the batch, e.g. (N, H, W, C). Table layers become
    torch.nn layers, containers the torch container, hand-written forwards a traced
    torch.fx.GraphModule; the twin's state_dict has the same names in the same order (plus
    BatchNorm's num_batches_tracked) and its dtype and train/eval mode are the model's.
    """
    torch = torch_module()
    record = trace(model, example_input(model, input_shape))
    twin = _build_torch(torch, model, "", record)
    dtype = next((p.dtype for p in model.parameters() if p.dtype.kind == "f"), None)
    if dtype is not None:
        twin.to(getattr(torch, np.dtype(dtype).name))
    twin.load_state_dict(_state_to_torch(torch, model.state_dict(), model, record))
    return twin.train(model.training)


def _build_torch(torch, module: nn.Module, path: str, record: Trace):
    entry = converter_for(module)
    if entry is not None:
        try:
            return entry.to_torch(module, torch.nn)
        except ValueError as error:
            raise ValueError(f"to_torch: {path or '(root)'}: {error}") from error
    children = OrderedDict((name, _build_torch(torch, child, f"{path}.{name}" if path else name, record))
                           for name, child in module._modules.items())
    if is_container(module, nn):
        return build_container(getattr(torch.nn, type(module).__name__), children)
    if module._parameters or module._buffers:
        names = ", ".join(list(module._parameters) + list(module._buffers))
        raise ValueError(f"to_torch: {label(path, module)} holds its own parameters or buffers "
                         f"({names}); only layers from the converter table may (supported: "
                         f"{SUPPORTED})")
    if path not in record.frames:
        raise ValueError(f"to_torch: {label(path, module)} is not a supported layer and was not "
                         f"called when tracing the model; supported: {SUPPORTED}")
    graph = fx_graph(torch, record.frames[path])
    root = torch.nn.Module()
    for name, child in children.items():
        root.add_module(name, child)
    twin = torch.fx.GraphModule(root, graph, class_name=getattr(module, "traced_from", type(module).__name__))
    twin._modules.clear()
    twin._modules.update(children)            # every child, in minigrad's order
    return twin


def state_dict_to_torch(state_dict: dict, model: nn.Module, input_shape: tuple) -> OrderedDict:
    """minigrad arrays (``model.state_dict()`` names) -> a PyTorch state_dict (torch tensors)
    for ``to_torch(model, input_shape)`` or any torch model with the same names."""
    torch = torch_module()
    return _state_to_torch(torch, state_dict, model, trace(model, example_input(model, input_shape)))


def _layers(model: nn.Module, record: Trace, verb: str):
    """(path, layer, converter, input layout) of every parameterised module, or an error."""
    layouts = record.input_layouts()
    for path, module in model.named_modules():
        if not (module._parameters or module._buffers):
            continue
        entry = converter_for(module)
        if entry is None:
            raise ValueError(f"{verb}: {label(path, module)} holds parameters but is not a "
                             f"supported layer; supported: {SUPPORTED}")
        yield path, module, entry, layouts.get(path, PLAIN)


def _keys(path: str, module: nn.Module) -> list:
    """(state_dict key, attribute name) of each parameter and buffer the layer has (not None)."""
    names = [n for n in list(module._parameters) + list(module._buffers) if getattr(module, n) is not None]
    return [(f"{path}.{n}" if path else n, n) for n in names]


def _state_to_torch(torch, state_dict: dict, model: nn.Module, record: Trace) -> OrderedDict:
    out = OrderedDict()
    for path, module, entry, layout in _layers(model, record, "state_dict_to_torch"):
        for key, name in _keys(path, module):
            value = np.asarray(getattr(state_dict[key], "data", state_dict[key]))
            out[key] = torch.from_numpy(np.ascontiguousarray(entry.arrays[name][0](value, layout)))
        for name, value in entry.torch_only.items():
            out[f"{path}.{name}" if path else name] = torch.tensor(value)
    return out


def state_dict_from_torch(torch_state_dict: dict, model: nn.Module, input_shape: tuple) -> OrderedDict:
    """A PyTorch state_dict (tensors or arrays, PyTorch's layouts) -> NumPy arrays in minigrad's
    layouts for ``model.load_state_dict``; torch-only buffers (num_batches_tracked) are dropped.
    A key the model has but the checkpoint lacks raises, naming it."""
    record = trace(model, example_input(model, input_shape))
    out = OrderedDict()
    for path, module, entry, layout in _layers(model, record, "state_dict_from_torch"):
        for key, name in _keys(path, module):
            if key not in torch_state_dict:
                raise KeyError(f"state_dict_from_torch: the PyTorch state_dict has no {key!r} "
                               f"for {label(path, module)}")
            value = torch_state_dict[key]
            value = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
            out[key] = np.ascontiguousarray(entry.arrays[name][1](value, layout))
    return out


def from_torch(torch_model, input_shape: tuple) -> nn.Module:
    """The minigrad twin (NHWC) of a torch.nn.Module, weights and buffers converted.

    input_shape: minigrad's input shape with the batch, (N, H, W, C); the torch model sees
    (N, C, H, W). Hand-written forwards are traced with torch.fx (each submodule a leaf).
    """
    torch = torch_module()
    modes = [(m, m.training) for m in torch_model.modules()]
    try:
        torch_model.eval()                      # tracing must not update running statistics
        with torch.no_grad():
            examples = torch_inputs(torch, torch_model, input_shape)
            model = _build_minigrad(torch, torch_model, "", examples)
    finally:
        for module, mode in modes:
            module.training = mode
    dtype = next((p.dtype for p in torch_model.parameters() if p.is_floating_point()), None)
    if dtype is not None:
        model.to(np.dtype(str(dtype).replace("torch.", "")))
    model.load_state_dict(state_dict_from_torch(torch_model.state_dict(), model, input_shape))
    return model.train(torch_model.training)


def _build_minigrad(torch, module, path: str, examples: dict) -> nn.Module:
    found = torch_converter_for(module)
    if found is not None:
        try:
            return found[1].from_torch(module)
        except ValueError as error:
            raise ValueError(f"from_torch: {path or '(root)'}: {error}") from error
    children = OrderedDict((name, _build_minigrad(torch, child, f"{path}.{name}" if path else name, examples))
                           for name, child in module._modules.items())
    if is_container(module, torch.nn):
        return build_container(getattr(nn, type(module).__name__), children)
    where = f"from_torch: {label(path, module)}"
    if list(module.parameters(recurse=False)) or list(module.buffers(recurse=False)):
        raise ValueError(f"{where} holds its own parameters or buffers and is not a supported "
                         f"layer; supported: {SUPPORTED}")
    if id(module) not in examples:
        raise ValueError(f"{where} is not a supported layer and was not called when tracing; "
                         f"supported: {SUPPORTED}")
    return traced_from_fx(torch, module, children, examples[id(module)], where)
