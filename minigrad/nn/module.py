"""Module and Parameter: the containers models are built from, shaped like PyTorch's."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Iterator

import numpy as np

from minigrad import autograd
from minigrad.autograd import no_grad
from minigrad.nn.layouts import check_not_pytorch
from minigrad.tensor import Tensor, zero_grads


class _ThreadScopes(threading.local):
    """The modules being called in this thread, outermost first: (module, dotted name)."""

    def __init__(self) -> None:
        self.stack: list[tuple[Module, str]] = []


_scopes = _ThreadScopes()


class module_scope:
    """Context for ``Module.__call__``: ops recorded inside get ``node.notes["scope"]`` =
    (the module's dotted name in the outermost module called, its class name), e.g.
    ``("features.0", "Conv2d")``; the outermost module's name is ``""``. ``minigrad.viz``
    draws a cluster per scope."""

    def __init__(self, module: Module) -> None:
        self.module = module

    def __enter__(self) -> None:
        stack, name = _scopes.stack, ""
        if stack:
            parent, parent_name = stack[-1]
            child = next((k for k, m in parent._modules.items() if m is self.module),
                         type(self.module).__name__)
            name = f"{parent_name}.{child}" if parent_name else child
        stack.append((self.module, name))

    def __exit__(self, *exc_info: Any) -> None:
        _scopes.stack.pop()


def _note_scope(node: autograd.Node, inputs: list, output: Tensor) -> None:
    """Record hook: the module being called when ``node`` was recorded, if any."""
    if _scopes.stack:
        module, name = _scopes.stack[-1]
        node.notes["scope"] = (name, type(module).__name__)


autograd.record_hooks.append(_note_scope)


class Parameter(Tensor):
    """A leaf tensor that a Module registers as trainable (requires grad by default)."""

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        super().__init__(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of layers and models: parameters, buffers and submodules by attribute."""

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}: forward() is not implemented")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with module_scope(self):                 # names the ops recorded inside (viz)
            return self.forward(*args, **kwargs)

    # ----- registration -----------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 f"assigning attributes")
        if isinstance(value, Parameter):
            table = self._parameters
        elif isinstance(value, Module):
            table = self._modules
        elif name in self._buffers:
            table = self._buffers
        else:
            table = self.__dict__
        for other in (self._parameters, self._modules, self.__dict__):
            if other is not table:
                other.pop(name, None)
        table[name] = value

    def __getattr__(self, name: str) -> Any:
        for table in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(table, {}):
                return self.__dict__[table][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """A tensor that is part of the state (state_dict) but not trained, e.g. running stats."""
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor

    # ----- traversal --------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        stack, seen = [(prefix, self)], set()
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{child}" if name else child, m) for child, m in module._modules.items()]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        return (module for _, module in self.named_modules())

    def named_children(self) -> Iterator[tuple[str, Module]]:
        return iter(self._modules.items())

    def children(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def _named_members(self, table: str) -> Iterator[tuple[str, Tensor]]:
        seen = set()
        for prefix, module in self.named_modules():
            for name, value in getattr(module, table).items():
                if value is not None and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        return self._named_members("_parameters")

    def parameters(self) -> Iterator[Parameter]:
        return (p for _, p in self.named_parameters())

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers")

    def buffers(self) -> Iterator[Tensor]:
        return (b for _, b in self.named_buffers())

    # ----- state ------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict:
        """Dotted names (as PyTorch names them) -> copies of the parameter and buffer arrays."""
        entries = list(self.named_parameters()) + list(self.named_buffers())
        return OrderedDict((name, tensor.data.copy()) for name, tensor in entries)

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> None:
        """Copy arrays into the parameters and buffers; one error lists every problem."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a dict of names to arrays (e.g. from "
                            f"state_dict() or mg.load), got {type(state_dict).__name__}")
        own = OrderedDict(list(self.named_parameters()) + list(self.named_buffers()))
        check_not_pytorch(state_dict, {name: t.shape for name, t in own.items()}, type(self).__name__)
        not_arrays = [f"{name} ({type(value).__name__})" for name, value in state_dict.items()
                      if not isinstance(value, (np.ndarray, np.generic, Tensor))
                      or np.asarray(value.data if isinstance(value, Tensor) else value).dtype.kind
                      not in "biuf"]
        if not_arrays:
            raise TypeError(f"load_state_dict: values must be numeric arrays or tensors; got "
                            + ", ".join(not_arrays))
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        mismatched = [f"{name}: checkpoint {np.shape(state_dict[name])}, model {own[name].shape}"
                      for name in own if name in state_dict and np.shape(state_dict[name]) != own[name].shape]
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if mismatched:
            problems.append("shape mismatches: " + "; ".join(mismatched))
        if problems:
            raise RuntimeError(f"load_state_dict: cannot load into {type(self).__name__}:\n  "
                               + "\n  ".join(problems))
        with no_grad():
            for name, tensor in own.items():
                if name in state_dict:
                    value = state_dict[name]
                    tensor.data[...] = value.data if isinstance(value, Tensor) else value
                    tensor._version_counter.bump()

    # ----- modes, grads, dtype ----------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        zero_grads(self.parameters(), set_to_none)

    def to(self, dtype) -> Module:
        """Convert every floating parameter and buffer to ``dtype`` in place."""
        for tensor in list(self.parameters()) + list(self.buffers()):
            if tensor.dtype.kind == "f":
                tensor.data = tensor.data.astype(dtype)
                tensor.grad = None
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    # ----- printing ---------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(module).replace("\n", "\n  ") for name, module in self._modules.items()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"
