"""Draw what define-by-run recorded, with Graphviz.

``make_dot(loss, params=dict(model.named_parameters()))`` returns a ``graphviz.Digraph`` of
the forward graph that produced ``loss``: one box per op (name and non-default attributes),
the inputs of every op on its edges (shape and dtype), parameters by name, inputs that
require grad and constants styled apart, the ops of each submodule in a cluster named
after it, and optionally gradient norms and the bytes saved for backward. It displays inline
in Jupyter; ``save(dot, "graph.svg")`` renders to a file.
"""
from __future__ import annotations

import inspect
import math
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from minigrad.autograd import Node
from minigrad.io import atomic_write
from minigrad.tensor import Tensor
from minigrad.viz_notes import record_grad_norms

try:
    import graphviz
except ImportError as error:                      # pragma: no cover - graphviz is a dev dep
    raise ImportError("minigrad.viz needs the graphviz Python package: "
                      "pip install 'minigrad[viz]' (or pip install graphviz)") from error

__all__ = ["make_dot", "save", "record_grad_norms", "GraphvizNotFoundError"]

INSTALL_HINT = (
    "Graphviz's 'dot' program was not found on PATH, so the graph cannot be rendered "
    "(building it works without). Install Graphviz: `sudo apt-get install graphviz` "
    "(Debian/Ubuntu), `brew install graphviz` (macOS), `conda install -c conda-forge "
    "graphviz` or https://graphviz.org/download/ (Windows); `pip install graphviz` alone "
    "installs only the Python bindings.")

FORMATS = ("svg", "png", "pdf")

# Gradient-norm colours, from vanishing (blue) to exploding (red), on a log10 scale.
NORM_SCALE = (-6, 2)                              # log10 of the ends; one colour a decade
NORM_COLOURS = ("#313695", "#4575b4", "#74add1", "#abd9e9", "#e0f3f8", "#fee090", "#fdae61",
                "#f46d43", "#d73027")

STYLE = {
    "op": dict(shape="box", style="rounded,filled", fillcolor="#f0f0f0"),
    "parameter": dict(shape="box", style="filled", fillcolor="#cfe2f3"),
    "input": dict(shape="box", style="filled", fillcolor="#fce5cd"),
    "constant": dict(shape="box", style="dashed", color="#999999", fontcolor="#666666"),
    "output": dict(shape="ellipse", style="filled", fillcolor="#d9ead3"),
}


class GraphvizNotFoundError(RuntimeError):
    """Rendering needs Graphviz's ``dot`` program; the message says how to install it."""


@contextmanager
def _dot_required() -> Iterator[None]:
    try:
        yield
    except graphviz.ExecutableNotFound as error:
        raise GraphvizNotFoundError(INSTALL_HINT) from error


class Graph(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose rendering errors say how to install Graphviz."""

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        with _dot_required():
            return super().pipe(*args, **kwargs)

    def render(self, *args: Any, **kwargs: Any) -> Any:
        with _dot_required():
            return super().render(*args, **kwargs)


def save(dot: graphviz.Digraph, path: str | os.PathLike) -> Path:
    """Render ``dot`` to ``path``; the suffix picks the format (.svg, .png or .pdf).

    Written atomically (``minigrad.io.atomic_write``); parent folders are made.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"viz.save: cannot tell the format from {str(path)!r}; use a "
                         f"file name ending in {', '.join('.' + f for f in FORMATS)}")
    with _dot_required():
        data = dot.pipe(format=fmt)
    return atomic_write(path, lambda f: f.write(data))


def make_dot(root: Tensor, params: Mapping[str, Tensor] | None = None, show_shapes: bool = True,
             show_grads: bool = False, show_saved: bool = False) -> Graph:
    """The graph that produced ``root``, as a ``graphviz.Digraph`` (a :class:`Graph`).

    params: names for parameters, e.g. ``dict(model.named_parameters())``.
    show_shapes: label every edge with the tensor's shape and dtype.
    show_grads: after ``backward()``, annotate parameters with ``‖grad‖`` and colour them
        from blue (vanishing) to red (exploding); ops too when the backward ran inside
        ``record_grad_norms()``.
    show_saved: annotate each op with the bytes it keeps for backward, and the total.
    The same graph always gives the same source text.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"make_dot: root must be a Tensor, got {type(root).__name__}")
    names = {id(t): name for name, t in (params or {}).items()}
    if params is not None and any(not isinstance(t, Tensor) for t in params.values()):
        raise TypeError("make_dot: params must map names to Tensors, e.g. "
                        "dict(model.named_parameters())")
    drawing = _Drawing(names, show_shapes, show_grads, show_saved)
    drawing.draw(root)
    return drawing.dot


class _Drawing:
    """Builds one Graph: ids in forward order, so the source text is deterministic."""

    def __init__(self, names: dict, show_shapes: bool, show_grads: bool, show_saved: bool):
        self.names, self.show_shapes = names, show_shapes
        self.show_grads, self.show_saved = show_grads, show_saved
        self.dot = Graph(graph_attr=dict(rankdir="TB", fontname="Helvetica", fontsize="11",
                                         labelloc="t"),
                         node_attr=dict(fontname="Helvetica", fontsize="10"),
                         edge_attr=dict(fontname="Helvetica", fontsize="9", color="#555555"))
        self.ids: dict[int, str] = {}

    def draw(self, root: Tensor) -> None:
        nodes = _forward_order(root.grad_fn) if root.grad_fn is not None else []
        leaves = self._draw_leaves(nodes, root)
        self._draw_ops(nodes, leaves)
        self.dot.node("output", _lines("output", _meta_text(root.shape, root.dtype)),
                      **STYLE["output"])
        self.dot.edge(self.ids[id(root.grad_fn)] if nodes else self._leaf_id(root), "output")
        self._draw_caption(nodes)

    # ----- leaves ---------------------------------------------------------------------------
    def _draw_leaves(self, nodes: list[Node], root: Tensor) -> list[Tensor]:
        leaves = []
        for node in nodes:
            for edge in node.edges:
                if isinstance(edge, Tensor) and id(edge) not in self.ids:
                    self.ids[id(edge)] = f"leaf{len(leaves)}"
                    leaves.append(edge)
        if not nodes:                               # a leaf drawn on its own
            self.ids[id(root)] = "leaf0"
            leaves.append(root)
        return leaves

    def _leaf_id(self, leaf: Tensor) -> str:
        return self.ids[id(leaf)]

    def _leaf_node(self, leaf: Tensor, graph: graphviz.Digraph) -> None:
        name = self.names.get(id(leaf))
        kind = "parameter" if name is not None else "input" if leaf.requires_grad else "constant"
        title = name if name is not None else "input (requires grad)" if kind == "input" else "tensor"
        lines = [title, _meta_text(leaf.shape, leaf.dtype)]
        style = dict(STYLE[kind])
        if self.show_grads and leaf.grad is not None:
            norm = float(np.linalg.norm(leaf.grad.data))
            lines.append(_norm_text(norm))
            style.update(style="filled", fillcolor=norm_colour(norm))
        graph.node(self._leaf_id(leaf), _lines(*lines), **style)

    # ----- ops ------------------------------------------------------------------------------
    def _draw_ops(self, nodes: list[Node], leaves: list[Tensor]) -> None:
        for i, node in enumerate(nodes):
            self.ids[id(node)] = f"op{i}"
        clusters = _clusters(nodes, leaves, self.names)
        for number, (scope, (ops, params)) in enumerate(clusters.items()):
            graph = self.dot if scope is None else graphviz.Digraph(f"cluster_{number}")
            if scope is not None:
                graph.attr(label=f"{scope[0]}: {scope[1]}", style="rounded,dashed",
                           color="#6d9eeb", fontcolor="#3c78d8", fontname="Helvetica")
            for leaf in params:
                self._leaf_node(leaf, graph)
            for node in ops:
                self._op_node(node, graph)
            if scope is not None:
                self.dot.subgraph(graph)
        constants = 0
        for node in nodes:
            for index, edge in enumerate(node.edges):
                meta = node.notes["input_meta"][index]
                if edge is None:                   # a tensor that needs no gradient
                    source = f"const{constants}"
                    constants += 1
                    self.dot.node(source, _lines("tensor", _meta_text(*meta)), **STYLE["constant"])
                else:
                    source = self.ids[id(edge)]
                # leaves show their shape in their box; op outputs show it on the edge
                label = _meta_text(*meta) if self.show_shapes and isinstance(edge, Node) else None
                self.dot.edge(source, self.ids[id(node)], label=label)

    def _op_node(self, node: Node, graph: graphviz.Digraph) -> None:
        lines = [" ".join([node.name, *_attribute_texts(node)])]
        style = dict(STYLE["op"])
        saved, norm = node.notes.get("saved_nbytes"), node.notes.get("grad_norm")
        if self.show_saved and saved:
            lines.append(f"saved {_bytes_text(saved)}")
        if self.show_grads and norm is not None:
            lines.append(_norm_text(norm))
            style["fillcolor"] = norm_colour(norm)
        graph.node(self.ids[id(node)], _lines(*lines), **style)

    def _draw_caption(self, nodes: list[Node]) -> None:
        parameters = list({id(edge): edge for node in nodes for edge in node.edges
                           if isinstance(edge, Tensor) and id(edge) in self.names}.values())
        lines = [f"{len(nodes)} ops, {len(parameters)} parameter tensors "
                 f"({sum(int(np.prod(t.shape)) for t in parameters):,} values)"]
        if self.show_saved:
            total = sum(n.notes.get("saved_nbytes", 0) for n in nodes)
            lines.append(f"saved for backward: {_bytes_text(total)} in total")
        if self.show_grads:
            if nodes and all("grad_norm" not in n.notes for n in nodes):
                lines.append("op gradient norms: run backward() inside mg.viz.record_grad_norms()")
            self.dot.node("legend", _legend(), shape="plaintext")
        self.dot.attr(label=_lines(*lines))


def _forward_order(root: Node) -> list[Node]:
    """Every node reachable from ``root``, each after the nodes that produce its inputs."""
    order, seen, stack = [], {id(root)}, [(root, iter(root.edges))]
    while stack:
        node, edges = stack[-1]
        for edge in edges:
            if isinstance(edge, Node) and id(edge) not in seen:
                seen.add(id(edge))
                stack.append((edge, iter(edge.edges)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def _clusters(nodes: list[Node], leaves: list[Tensor], names: dict) -> dict:
    """{scope or None: (ops, parameters)}; a parameter joins the cluster of the module it
    belongs to by name (``features.0.weight`` -> ``features.0``)."""
    clusters: dict = {None: ([], [])}
    by_name = {}
    for node in nodes:
        scope = node.notes.get("scope")
        scope = scope if scope and scope[0] else None
        clusters.setdefault(scope, ([], []))[0].append(node)
        if scope is not None:
            by_name[scope[0]] = scope
    for leaf in leaves:
        owner = names.get(id(leaf), "").rpartition(".")[0]
        clusters[by_name.get(owner)][1].append(leaf)
    return clusters


def _attribute_texts(node: Node) -> list[str]:
    """``name=value`` for every attribute that differs from the op's default."""
    defaults = {name: p.default for name, p in inspect.signature(node.op.forward).parameters.items()
                if p.kind is p.KEYWORD_ONLY}
    texts = []
    for name, value in node.attrs.items():
        default = defaults.get(name, inspect.Parameter.empty)
        if _same(value, default):
            continue
        texts.append(f"{name}={_value_text(value)}")
    return texts


def _same(value: Any, default: Any) -> bool:
    if isinstance(default, (int, float)) and isinstance(value, (tuple, list)):
        return all(_same(v, default) for v in value)
    try:
        return type(value) is type(default) and bool(value == default)
    except (TypeError, ValueError):
        return False


def _value_text(value: Any) -> str:
    if isinstance(value, (tuple, list)) and len(value) == 2 and value[0] == value[1] \
            and isinstance(value[0], int):
        return str(value[0])                                  # stride=(2, 2) -> stride=2
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_value_text(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, slice):
        text = ":".join("" if v is None else str(v) for v in (value.start, value.stop, value.step))
        return text[:-1] if text.endswith(":") else text
    if isinstance(value, np.ndarray):
        return f"array{value.shape}"
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    if value is None or value is Ellipsis:
        return "None" if value is None else "..."
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


def _meta_text(shape: tuple, dtype: Any) -> str:
    return f"({', '.join(map(str, shape))}{',' if len(shape) == 1 else ''}) {np.dtype(dtype).name}"


def _bytes_text(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def _norm_text(norm: float) -> str:
    return f"|grad| {norm:.2e}"


def norm_colour(norm: float) -> str:
    """The fill colour of a gradient norm: blue at 1e-6 and below, red at 1e2 and above."""
    lo, hi = NORM_SCALE
    level = math.log10(norm) if norm > 0 else lo
    t = min(max((level - lo) / (hi - lo), 0.0), 1.0)
    return NORM_COLOURS[round(t * (len(NORM_COLOURS) - 1))]


def _legend() -> str:
    lo, _ = NORM_SCALE
    steps = len(NORM_COLOURS) - 1
    cells = "".join(f'<td bgcolor="{c}">1e{lo + k:+d}</td>' for k, c in enumerate(NORM_COLOURS))
    return (f'<<table border="0" cellborder="1" cellspacing="0"><tr><td colspan="{steps + 1}">'
            f'gradient norm (blue: vanishing, red: exploding)</td></tr><tr>{cells}</tr></table>>')


def _lines(*lines: str) -> str:
    return "\\n".join(line.replace("\\", "\\\\") for line in lines)
