"""Ops with ``fresh_grads`` return gradients that share no memory with g, what they saved, or
each other: the engine lets a leaf adopt them as ``.grad`` without a copy."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad.ops.base import OPS


def arrays_in(value):
    """Every ndarray inside ``value`` (nested tuples, lists and dicts)."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from arrays_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from arrays_in(item)


rng = np.random.default_rng(0)
CASES = {  # op name: (inputs, attrs)
    "conv2d": [((rng.standard_normal((2, 6, 6, 3)), rng.standard_normal((3, 3, 3, 4)), rng.standard_normal(4)),
                dict(padding=1)),
               ((rng.standard_normal((2, 16, 16, 16)), rng.standard_normal((3, 3, 16, 16)), rng.standard_normal(16)),
                dict(padding=1)),                                       # Winograd
               ((rng.standard_normal((2, 7, 7, 4)), rng.standard_normal((3, 3, 2, 6)), rng.standard_normal(6)),
                dict(stride=2, groups=2))],
    "conv_transpose2d": [((rng.standard_normal((2, 5, 5, 3)), rng.standard_normal((3, 3, 4, 3)), rng.standard_normal(4)),
                          dict(stride=2, padding=1))],
    "linear": [((rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)), {}),
               ((rng.standard_normal(3), rng.standard_normal((3, 4)), rng.standard_normal(4)), {})],
    "batch_norm": [((rng.standard_normal((4, 3, 3, 5)), rng.standard_normal(5), rng.standard_normal(5),
                     np.zeros(5), np.ones(5)), dict(training=training, momentum=0.1, eps=1e-5))
                   for training in (True, False)],
}


def test_every_fresh_op_has_cases() -> None:
    assert {name for name, op in OPS.items() if op.fresh_grads} == set(CASES)


@pytest.mark.parametrize("name, inputs, attrs", [(name, *case) for name, cases in CASES.items() for case in cases])
@pytest.mark.parametrize("contiguous", [True, False])
def test_fresh_gradients_share_no_memory(name, inputs, attrs, contiguous) -> None:
    op = OPS[name]
    y, saved = op.forward(*inputs, **attrs)
    g = rng.standard_normal(y.shape) if contiguous else np.broadcast_to(np.float64(1.5), y.shape)
    grads = [gi for gi in op.vjp(g, saved, (True,) * len(inputs)) if gi is not None]
    assert len(grads) >= 2
    for k, gi in enumerate(grads):
        for other in [g, *inputs, *arrays_in(saved), *grads[k + 1:]]:
            assert not np.shares_memory(gi, other), (name, k)
    op.release(saved)


def test_fresh_gradients_meeting_at_a_leaf_add_up_across_backward_calls() -> None:
    """Two convs read x: the first fresh gradient waits owned, the second is added into it in
    place, the leaf adopts the sum, and the next backward adds into that .grad."""
    x = mg.tensor(rng.standard_normal((2, 5, 5, 3)), requires_grad=True)
    w1, w2 = (mg.tensor(rng.standard_normal((3, 3, 3, 4)), requires_grad=True) for _ in range(2))
    g = mg.tensor(rng.standard_normal((2, 5, 5, 4)))
    parts = []
    for w, gradient in ((w1, g), (w2, mg.ones(2, 5, 5, 4, dtype=mg.float64))):
        x.grad = None
        F.conv2d(x, w, padding=1).backward(gradient)
        parts.append(x.grad.numpy().copy())
    x.grad = None
    for _ in range(2):
        (F.conv2d(x, w1, padding=1) * g + F.conv2d(x, w2, padding=1)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (parts[0] + parts[1]), rtol=1e-12)
    assert not np.shares_memory(x.grad.numpy(), w1.grad.numpy())
