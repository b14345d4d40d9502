"""A first look at minigrad: build a small graph, run backward, print the gradients.

    python examples/demo.py
"""
from __future__ import annotations

import argparse

import numpy as np

import minigrad as mg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed for minigrad's generator")
    args = parser.parse_args()

    mg.manual_seed(args.seed)
    x = mg.randn(4, 3)                                  # a batch of 4 inputs with 3 features
    w = mg.randn(3, 2, requires_grad=True)              # weights (in_features, out_features)
    b = mg.zeros(2, requires_grad=True)
    target = mg.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])

    prediction = (x @ w + b).clamp(min=0)               # a linear layer and a ReLU
    loss = ((prediction - target) ** 2).mean()
    loss.backward()

    np.set_printoptions(precision=4, suppress=True)
    print(f"loss = {loss.item():.4f}   (graph root: {loss.grad_fn.name})")
    print("dloss/dw =\n", w.grad.numpy())
    print("dloss/db =", b.grad.numpy())
    ok = mg.gradcheck(lambda w_, b_: ((x @ w_ + b_).clamp(min=0) - target).pow(2).mean(), [w, b])
    print("gradcheck against finite differences:", "passed" if ok else "failed")


if __name__ == "__main__":
    main()
