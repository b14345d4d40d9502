"""Draw what minigrad recorded: a small expression, the digits CNN's loss graph, the same
graph with gradient norms after one backward, and the residual digits net's forward graph
(its skip connections are the add nodes two paths meet at). Writes SVG and PNG files into --out.

    python examples/visualize_graph.py [--out outputs/graphs]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import minigrad as mg
import minigrad.functional as F
from minigrad import viz

from examples.train_digits import load_split, make_model

BATCH = 8


def expression_graph() -> viz.Graph:
    """y = sum(tanh(x @ w + b) * 2): an input, two named parameters, a constant."""
    x = mg.randn(4, 3, requires_grad=True)
    w, b = mg.randn(3, 2, requires_grad=True), mg.zeros(2, requires_grad=True)
    y = ((x @ w + b).tanh() * 2).sum()
    return viz.make_dot(y, params={"w": w, "b": b})


def cnn_graphs() -> tuple[viz.Graph, viz.Graph]:
    """The digits CNN on one batch: forward shapes, then gradient norms after backward."""
    model = make_model()
    images, _, labels, _ = load_split()
    loss = F.cross_entropy(model(mg.tensor(images[:BATCH])), mg.tensor(labels[:BATCH]))
    params = dict(model.named_parameters())
    forward = viz.make_dot(loss, params, show_saved=True)
    with viz.record_grad_norms():
        loss.backward()
    return forward, viz.make_dot(loss, params, show_grads=True)


def resnet_graph() -> viz.Graph:
    """The residual digits net's logits on a batch of 2, with shapes: each block's add joins
    the convolution path and the shortcut (identity in block1, strided 1x1 conv in block2)."""
    model = make_model("resnet")
    images, _, _, _ = load_split()
    return viz.make_dot(model(mg.tensor(images[:2])), dict(model.named_parameters()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("outputs/graphs"), help="output folder")
    args = parser.parse_args(argv)
    mg.manual_seed(0)
    cnn, cnn_grads = cnn_graphs()
    for name, dot in (("expression", expression_graph()), ("cnn", cnn), ("cnn_grads", cnn_grads),
                      ("resnet", resnet_graph())):
        for suffix in (".svg", ".png"):
            print("wrote", viz.save(dot, args.out / f"{name}{suffix}"))


if __name__ == "__main__":
    main()
