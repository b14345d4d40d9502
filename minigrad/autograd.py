"""The backward engine: graph nodes, the backward pass and the grad modes.

The engine knows ops (``minigrad.ops.base``) and NumPy, never the Tensor class. It meets
the layer above through three small contracts:

- ``record(op, inputs, output, saved, attrs)`` makes the :class:`Node` of one op
  application. ``inputs`` and ``output`` are tensor-like: ``.data``, ``.requires_grad``,
  ``.grad_fn`` and ``._version_counter``.
- A node's edge to an input is the producing Node, None (no gradient flows there) or a
  *leaf*: any object with ``_accumulate_grad(g, owned)``. Backward calls it once with the sum
  of the gradients that reached the leaf; ``owned`` is True when no one else holds that
  array, so the leaf may keep it, not copy it: the engine made it (it summed two
  gradients), or an op whose ``fresh_grads`` is True returned it (``minigrad.ops.base``).
- ``record_hooks`` and ``gradient_hooks``: functions the upper layers add (nn notes module
  scopes, viz shapes and gradient norms) in ``node.notes``; the engine never reads them.
- Gradient hooks of tensors (``Tensor.register_hook``): functions ``g -> g' or None`` on
  arrays, kept in ``node.hooks`` for a non-leaf (a node has one output) and in a leaf's
  optional ``_grad_hooks`` list; backward applies them, in order, to the summed gradient
  before it goes on (to ``retain_grad``, the vjp, ``.grad`` or ``grad``'s result).
- ``grad`` wraps each input's gradient array with the input's ``_gradient_tensor(g)``.

Grad mode and anomaly mode are per thread, as in PyTorch.
"""
from __future__ import annotations

import functools
import threading
import weakref
from typing import Any, Callable

import numpy as np

from minigrad.ops.base import OPS, Op, register  # noqa: F401  (re-exported: the public names)

# hook(node, inputs, output) after a node is recorded; hook(node, g) when backward reaches
# a node with its summed gradient g
record_hooks: list[Callable[[Any, list, Any], None]] = []
gradient_hooks: list[Callable[[Any, np.ndarray], None]] = []


class _ThreadModes(threading.local):
    """The switches of the calling thread (class attributes are every thread's defaults)."""

    grad_enabled = True
    anomaly = False


_modes = _ThreadModes()


class _Released:
    """Stands in for the saved arrays of a node after backward released them."""


RELEASED = _Released()


class Node:
    """One recorded op application: the op, edges to its inputs, what forward saved, attrs.

    ``edges[i]`` is the producing Node of input i, the input itself when it is a leaf that
    requires grad, or None when no gradient flows there. ``attrs`` are the hyper-parameters
    the op was called with (for inspection; ``vjp`` reads only ``saved``). ``notes`` is for
    the layers above (``scope``, ``input_meta``, ``grad_norm``, ...), never read here.
    """

    __slots__ = ("op", "edges", "saved", "attrs", "saved_versions", "retained", "notes",
                 "hooks", "__weakref__")

    def __init__(self, op: type[Op], inputs: list, output: Any, saved: Any, attrs: dict) -> None:
        self.op = op
        self.edges = [None if not t.requires_grad else (t.grad_fn or t) for t in inputs]
        self.saved = saved
        self.attrs = attrs
        self.saved_versions = _versions_of_saved(saved_arrays(saved), inputs + [output])
        self.retained = None
        self.notes: dict[str, Any] = {}
        self.hooks: list[Callable[[np.ndarray], Any]] = []

    @property
    def name(self) -> str:
        return self.op.name

    def __repr__(self) -> str:
        return f"<Node {self.name}>"


def record(op: type[Op], inputs: list, output: Any, saved: Any, attrs: dict) -> Node:
    """The node of ``output = op(*inputs, **attrs)``; ``record_hooks`` see it first."""
    node = Node(op, inputs, output, saved, attrs)
    for hook in record_hooks:
        hook(node, inputs, output)
    return node


def saved_arrays(saved: Any) -> list[np.ndarray]:
    """The arrays among what a forward saved (``saved`` itself, or the items of a tuple)."""
    items = saved if isinstance(saved, (tuple, list)) else (saved,)
    return [a for a in items if isinstance(a, np.ndarray)]


def _versions_of_saved(arrays: list[np.ndarray], tensors: list) -> list:
    """(counter, version) of every tensor whose memory one of the saved ``arrays`` may alias."""
    return [(t._version_counter, t._version_counter.value) for t in tensors
            if any(np.may_share_memory(a, t.data) for a in arrays)]


# ----- grad modes -------------------------------------------------------------------------
def is_grad_enabled() -> bool:
    """Whether ops run in this thread record a graph."""
    return _modes.grad_enabled


def should_record(y: np.ndarray, inputs: list) -> bool:
    """Whether an op output ``y`` gets a node: grad mode on, y floating, an input requiring grad."""
    return _modes.grad_enabled and y.dtype.kind == "f" and any(t.requires_grad for t in inputs)


class Mode:
    """A per-thread switch used as a context manager or decorator (``@mg.no_grad()``).

    Subclasses name the switch: ``state`` (a ``threading.local``), ``key`` and ``value``.
    """

    state: threading.local = _modes
    key = ""
    value = False

    def __enter__(self) -> None:
        self._previous = getattr(self.state, self.key)
        setattr(self.state, self.key, self.value)

    def __exit__(self, *exc_info: Any) -> None:
        setattr(self.state, self.key, self._previous)

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(Mode):
    """Nothing computed inside (in this thread) records a graph."""
    key, value = "grad_enabled", False


class enable_grad(Mode):
    """Re-enable recording inside a ``no_grad`` block."""
    key, value = "grad_enabled", True


class detect_anomaly(Mode):
    """Check every op's forward output and backward gradients for NaN/Inf; raise naming the op."""
    key, value = "anomaly", True


def check_forward(op: type[Op], y: np.ndarray) -> None:
    """Under ``detect_anomaly``: raise naming ``op`` when its forward returned NaN or Inf."""
    if _modes.anomaly:
        _check_finite(y, f"detect_anomaly: the forward of {op.name!r} returned NaN or Inf "
                         f"(output shape {y.shape})")


def _check_finite(a: np.ndarray, message: str) -> None:
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise RuntimeError(message)


# ----- backward ---------------------------------------------------------------------------
def run_backward(root: Node, gradient: np.ndarray, retain_graph: bool) -> None:
    """Propagate ``gradient`` (shaped like the output of ``root``) to the leaves' ``.grad``."""
    _propagate({root: gradient}, retain_graph, captured=None)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """d(sum of outputs weighted by grad_outputs)/d(input) for each input, as PyTorch's
    ``torch.autograd.grad``: a tuple of tensors, ``.grad`` of no leaf is changed.

    ``outputs``/``inputs``: a tensor or a sequence of tensors; ``grad_outputs`` defaults to
    ones for one-element outputs. An input no gradient reaches is an error unless
    ``allow_unused`` (then its entry is None). ``create_graph`` (higher-order gradients) is
    not supported: VJPs run on NumPy arrays and record no graph.
    """
    if create_graph:
        raise RuntimeError("autograd.grad: create_graph=True (higher-order gradients) is not "
                           "supported: minigrad's VJPs run on NumPy arrays and record no graph")
    outputs, inputs = _as_sequence(outputs), _as_sequence(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grad_outputs = _as_sequence(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"autograd.grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    roots, gradients = [], []
    for i, (y, gy) in enumerate(zip(outputs, grad_outputs)):
        if not y.requires_grad:
            raise RuntimeError(f"autograd.grad: element {i} of outputs does not require grad and "
                               f"has no grad_fn")
        if gy is None and y.data.size != 1:
            raise RuntimeError(f"autograd.grad: grad can be implicitly created only for scalar "
                               f"outputs; output {i} has shape {y.data.shape}, pass grad_outputs")
        gy = np.ones_like(y.data) if gy is None else np.asarray(getattr(gy, "data", gy), y.data.dtype)
        if gy.shape != y.data.shape:
            raise RuntimeError(f"autograd.grad: grad_outputs[{i}] has shape {gy.shape}, output "
                               f"{i} has shape {y.data.shape}")
        roots.append(y.grad_fn or y)
        gradients.append(gy)
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad")
    targets = [x.grad_fn or x for x in inputs]
    arrays = gradients_reaching(roots, gradients, targets, bool(retain_graph))
    for i, g in enumerate(arrays):
        if g is None and not allow_unused:
            raise RuntimeError(f"autograd.grad: input {i} appears not to have been used in the "
                               f"graph (no gradient reaches it); pass allow_unused=True to get None")
    return tuple(None if g is None else x._gradient_tensor(g) for x, g in zip(inputs, arrays))


def _as_sequence(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def gradients_reaching(roots: list, gradients: list, targets: list, retain_graph: bool) -> list:
    """The summed gradients (arrays, None where none arrived) that reach ``targets`` (Nodes
    or leaves) from ``roots`` weighted by ``gradients``; no leaf's ``.grad`` is touched."""
    starts: dict = {}
    for root, g in zip(roots, gradients):
        starts[root] = g if root not in starts else starts[root] + g
    captured = dict.fromkeys(targets)
    _propagate(starts, retain_graph, captured)
    return [captured[t] for t in targets]


def _propagate(starts: dict, retain_graph: bool, captured: dict | None) -> None:
    """Kahn's algorithm over nodes and leaves alike: a target runs once all its consumers have
    sent their gradients, so gradients meeting there are summed first and every ``vjp`` runs
    once. No recursion, any depth. With ``captured`` (``grad``), the gradients reaching its
    keys are stored there instead of in any leaf's ``.grad``."""
    consumers = _count_consumers(list(starts))
    pending: dict[Any, tuple[np.ndarray | None, bool]] = {}
    for start, g in starts.items():
        _add_pending(pending, start, g)
    ready: list = [start for start in starts if consumers[start] == 0]
    while ready:
        target = ready.pop()
        g, owned = pending.pop(target, (None, False))
        hooks = target.hooks if isinstance(target, Node) else getattr(target, "_grad_hooks", ())
        if g is not None and hooks:
            g, owned = apply_hooks(hooks, g), False
        if captured is not None and target in captured:
            captured[target] = g
        if not isinstance(target, Node):              # a leaf: it adds g into its .grad
            if g is not None and captured is None:
                target._accumulate_grad(g, owned)
            continue
        grads = _backward_through(target, g, retain_graph, store_retained=captured is None)
        fresh = target.op.fresh_grads
        for edge, gi in zip(target.edges, grads):
            if edge is not None:
                _add_pending(pending, edge, gi, fresh)
                consumers[edge] -= 1
                if consumers[edge] == 0:
                    ready.append(edge)


def apply_hooks(hooks: list, g: np.ndarray) -> np.ndarray:
    """Run gradient hooks in order; one returning an array replaces the gradient."""
    for hook in list(hooks):
        replaced = hook(g)
        if replaced is not None:
            if np.shape(replaced) != g.shape:
                raise RuntimeError(f"register_hook: a hook returned a gradient of shape "
                                   f"{np.shape(replaced)} for a tensor of shape {g.shape}")
            g = np.asarray(replaced)
    return g


class RemovableHandle:
    """What ``register_hook`` and the module hook registrations return: ``remove()`` takes
    the hook out of the list it was added to (a second ``remove()`` does nothing)."""

    def __init__(self, hooks: list, hook: Any) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()


def _count_consumers(roots: list) -> dict:
    """For every node and leaf reachable from ``roots``: how many edges point at it."""
    consumers: dict = dict.fromkeys(roots, 0)
    stack = [root for root in roots if isinstance(root, Node)]
    while stack:
        node = stack.pop()
        for edge in node.edges:
            if edge is None:
                continue
            if edge not in consumers:
                consumers[edge] = 0
                if isinstance(edge, Node):
                    stack.append(edge)
            consumers[edge] += 1
    return consumers


def _backward_through(node: Node, g: np.ndarray | None, retain_graph: bool,
                      store_retained: bool = True) -> tuple:
    """The gradients ``node`` sends to its inputs (all None when none reached it)."""
    if g is None:
        return (None,) * len(node.edges)
    for hook in gradient_hooks:
        hook(node, g)
    if store_retained:
        _store_retained_grad(node, g)
    grads = _call_vjp(node, g)
    if _modes.anomaly:
        _check_backward(node, grads)
    if not retain_graph:
        _release(node)
    return grads


def _call_vjp(node: Node, g: np.ndarray) -> tuple:
    if node.saved is RELEASED:
        raise RuntimeError(
            f"backward: trying to backward through the graph a second time (through "
            f"{node.name!r}, whose saved arrays were freed by the first backward). "
            f"Pass retain_graph=True to the first backward() to keep them.")
    _check_saved_versions(node)
    grads = node.op.vjp(g, node.saved, tuple(e is not None for e in node.edges))
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(node.edges):
        raise RuntimeError(f"{node.name}: vjp returned {len(grads)} gradients for "
                           f"{len(node.edges)} inputs")
    return grads


def _check_saved_versions(node: Node) -> None:
    for counter, version in node.saved_versions:
        if counter.value != version:
            raise RuntimeError(
                f"{node.name}: a tensor saved for backward was modified by an in-place "
                f"operation (version {version} when saved, version {counter.value} now). "
                f"Modify a clone instead, or do the in-place change before {node.name}.")


def _check_backward(node: Node, grads: tuple) -> None:
    for i, gi in enumerate(grads):
        if gi is not None:
            _check_finite(np.asarray(gi), f"detect_anomaly: the backward of {node.name!r} "
                                          f"returned NaN or Inf in the gradient of input {i}")


def _release(node: Node) -> None:
    """Free what forward saved (the op's ``release`` hook first): backward is done with it."""
    if node.saved is not None:
        node.op.release(node.saved)
        node.saved = RELEASED


def _add_pending(pending: dict, target: Any, gi: Any, fresh: bool = False) -> None:
    """Add ``gi`` into the gradient waiting at ``target``.

    The first gradient waits as the vjp returned it: owned only when ``fresh`` (its op
    promises a new array no one else holds), else the vjp may hold it too. When a second
    one meets an array not owned, the engine makes the sum: a fresh array only the engine
    holds (owned), to which later gradients are added in place.
    """
    previous, owned = pending.get(target, (None, False))
    if gi is None:
        pending[target] = (previous, owned)
        return
    gi = np.asarray(gi)
    if previous is None:
        pending[target] = (gi, fresh)
    elif owned and gi.shape == previous.shape and gi.dtype == previous.dtype:
        previous += gi
    else:
        pending[target] = (np.asarray(previous + gi), True)   # 0-d sums come back as scalars


def _store_retained_grad(node: Node, g: np.ndarray) -> None:
    tensor = node.retained() if node.retained is not None else None
    if tensor is not None:
        tensor._accumulate_grad(g, owned=False)          # g goes on to the vjp as well


def retain(node: Node, tensor: Any) -> None:
    """Make backward store the gradient reaching ``node`` in ``tensor`` (``retain_grad``)."""
    node.retained = weakref.ref(tensor)
