"""Tensor.register_hook and mg.autograd.grad against PyTorch."""
import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad import autograd

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
W = np.array([[0.3, -0.2], [0.1, 0.4], [-0.5, 0.6]])


def graph(lib, x, w):
    h = (x @ w).tanh()
    return h, (h * h).sum() + x.sum()


def test_hooks_scale_inspect_and_are_removed_like_pytorch():
    seen, seen_t = [], []
    x, w = mg.tensor(X, requires_grad=True), mg.tensor(W, requires_grad=True)
    xt, wt = torch.tensor(X, requires_grad=True), torch.tensor(W, requires_grad=True)
    h, loss = graph(mg, x, w)
    ht, loss_t = graph(torch, xt, wt)
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    ht.register_hook(lambda g: seen_t.append(g.numpy().copy()))
    h.register_hook(lambda g: g * 3)
    ht.register_hook(lambda g: g * 3)
    h.retain_grad()
    ht.retain_grad()
    handle = w.register_hook(lambda g: g * 0)
    handle_t = wt.register_hook(lambda g: g * 0)
    handle.remove()
    handle_t.remove()
    x.register_hook(lambda g: g + 1)
    xt.register_hook(lambda g: g + 1)
    loss.backward()
    loss_t.backward()
    np.testing.assert_allclose(seen[0], seen_t[0], rtol=1e-12)
    for ours, theirs in [(h, ht), (x, xt), (w, wt)]:
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


def test_register_hook_on_a_constant_is_a_clear_error():
    with pytest.raises(RuntimeError, match="register_hook: cannot register a hook on a tensor that does not"):
        mg.tensor(X).register_hook(lambda g: g)


def test_grad_matches_pytorch_and_leaves_dot_grad_alone():
    x, w = mg.tensor(X, requires_grad=True), mg.tensor(W, requires_grad=True)
    xt, wt = torch.tensor(X, requires_grad=True), torch.tensor(W, requires_grad=True)
    h, loss = graph(mg, x, w)
    ht, loss_t = graph(torch, xt, wt)
    gx, gh = autograd.grad(loss, [x, h], retain_graph=True)
    gxt, ght = torch.autograd.grad(loss_t, [xt, ht], retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), gxt.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gh.numpy(), ght.numpy(), rtol=1e-12)
    assert x.grad is None and w.grad is None
    weights = np.array([[1.0, -2.0], [0.5, 3.0]])
    (gw,) = mg.autograd.grad(h, w, grad_outputs=mg.tensor(weights))
    (gwt,) = torch.autograd.grad(ht, wt, grad_outputs=torch.tensor(weights))
    np.testing.assert_allclose(gw.numpy(), gwt.numpy(), rtol=1e-12)


def test_grad_of_several_outputs_sums_them_and_unused_inputs_need_allow_unused():
    x, z = mg.tensor(X, requires_grad=True), mg.tensor(W, requires_grad=True)
    a, b = (x * x).sum(), (x * 2).sum()
    (g,) = mg.autograd.grad([a, b], x, retain_graph=True)
    np.testing.assert_allclose(g.numpy(), 2 * X + 2)
    with pytest.raises(RuntimeError, match="autograd.grad: input 1 appears not to have been used"):
        mg.autograd.grad(a, [x, z], retain_graph=True)
    assert mg.autograd.grad(a, [x, z], allow_unused=True)[1] is None


def test_grad_errors_name_the_problem():
    x = mg.tensor(X, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="create_graph=True .* not supported"):
        mg.autograd.grad(y.sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs; output 0 has shape \(2, 3\)"):
        mg.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="input 0 does not require grad"):
        mg.autograd.grad(y.sum(), mg.tensor(X))
    loss = y.sum()
    mg.autograd.grad(loss, x)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        mg.autograd.grad(loss, x)
