"""Activations at their kinks and extremes against PyTorch 2.14, and the nn modules."""
import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.functional as F
from minigrad import nn

tF = torch.nn.functional
KINKS = np.array([-20.0, -6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 3.0, 6.0, 10.0, 20.0, 40.0])
PAIRS = [
    ("gelu", F.gelu, tF.gelu), ("gelu_tanh", lambda x: F.gelu(x, "tanh"), lambda x: tF.gelu(x, approximate="tanh")),
    ("elu", lambda x: F.elu(x, 0.5), lambda x: tF.elu(x, 0.5)), ("selu", F.selu, tF.selu),
    ("celu", lambda x: F.celu(x, 2.0), lambda x: tF.celu(x, 2.0)), ("silu", F.silu, tF.silu),
    ("mish", F.mish, tF.mish), ("softplus", F.softplus, tF.softplus),
    ("softplus_beta", lambda x: F.softplus(x, 0.5, 10.0), lambda x: tF.softplus(x, 0.5, 10.0)),
    ("hardtanh", lambda x: F.hardtanh(x, -0.5, 1.5), lambda x: tF.hardtanh(x, -0.5, 1.5)),
    ("relu6", F.relu6, tF.relu6), ("hardswish", F.hardswish, tF.hardswish),
    ("hardsigmoid", F.hardsigmoid, tF.hardsigmoid), ("logsigmoid", F.logsigmoid, tF.logsigmoid),
    ("softsign", F.softsign, tF.softsign),
]


@pytest.mark.parametrize("name,ours,theirs", PAIRS, ids=[p[0] for p in PAIRS])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activation_at_kinks_and_extremes_matches_pytorch(name, ours, theirs, dtype):
    values = np.concatenate([KINKS, -KINKS]).astype(dtype)
    x = mg.tensor(values, requires_grad=True)
    y = ours(x)
    y.sum().backward()
    xt = torch.tensor(values, requires_grad=True)
    yt = theirs(xt)
    yt.sum().backward()
    assert y.dtype == dtype and x.grad.dtype == dtype
    tol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)


MODULES = [
    (nn.GELU(), torch.nn.GELU()), (nn.GELU("tanh"), torch.nn.GELU("tanh")),
    (nn.ELU(0.3, inplace=True), torch.nn.ELU(0.3)), (nn.SELU(inplace=True), torch.nn.SELU()),
    (nn.CELU(1.5), torch.nn.CELU(1.5)), (nn.SiLU(), torch.nn.SiLU()), (nn.Mish(), torch.nn.Mish()),
    (nn.Softplus(2.0, 5.0), torch.nn.Softplus(2.0, 5.0)), (nn.Hardtanh(-2.0, 0.5), torch.nn.Hardtanh(-2.0, 0.5)),
    (nn.ReLU6(inplace=True), torch.nn.ReLU6()), (nn.Hardswish(), torch.nn.Hardswish()),
    (nn.Hardsigmoid(), torch.nn.Hardsigmoid()), (nn.LogSigmoid(), torch.nn.LogSigmoid()),
    (nn.Softsign(), torch.nn.Softsign()), (nn.ReLU(inplace=True), torch.nn.ReLU()),
    (nn.LeakyReLU(0.1, inplace=True), torch.nn.LeakyReLU(0.1)),
]


@pytest.mark.parametrize("ours,theirs", MODULES, ids=[type(m[0]).__name__ for m in MODULES])
def test_activation_module_matches_pytorch_and_leaves_input_alone(ours, theirs):
    values = np.random.default_rng(0).uniform(-7, 7, (2, 3, 3, 4))
    x = mg.tensor(values)
    np.testing.assert_allclose(ours(x).numpy(), theirs(torch.tensor(values)).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(x.numpy(), values)


def test_activation_module_reprs_follow_pytorch():
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.GELU()) == "GELU(approximate='none')"
    assert repr(nn.Hardtanh(-2.0, 0.5)) == "Hardtanh(min_val=-2.0, max_val=0.5)"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"


def test_bad_activation_arguments_name_the_function():
    with pytest.raises(ValueError, match="gelu: approximate"):
        F.gelu(mg.zeros(2), approximate="fast")
    with pytest.raises(ValueError, match="Hardtanh: min_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(ValueError, match="celu: alpha"):
        F.celu(mg.zeros(2), 0.0)


def test_one_hot_matches_pytorch():
    labels = np.array([[0, 2], [1, 3]])
    np.testing.assert_array_equal(F.one_hot(mg.tensor(labels)).numpy(), tF.one_hot(torch.tensor(labels)).numpy())
    out = F.one_hot(mg.tensor(labels), num_classes=6)
    assert out.dtype == np.int64 and out.shape == (2, 2, 6)
    with pytest.raises(ValueError, match=r"one_hot: class values must be in \[0, 2\]"):
        F.one_hot(mg.tensor(labels), num_classes=3)
    with pytest.raises(TypeError, match="one_hot: expected an integer"):
        F.one_hot(mg.tensor([0.0, 1.0]))


@pytest.mark.parametrize("p,dim", [(2, 1), (2, -1), (1, 0), (3.0, -1)])
def test_normalize_matches_pytorch(p, dim):
    values = np.random.default_rng(1).normal(size=(2, 3, 4))
    values[0, :, 0] = 0.0                       # a zero vector along dim 1: the eps clamp
    x = mg.tensor(values, requires_grad=True)
    xt = torch.tensor(values, requires_grad=True)
    weights = np.random.default_rng(2).normal(size=values.shape)
    (F.normalize(x, p, dim) * mg.tensor(weights)).sum().backward()
    (tF.normalize(xt, p, dim) * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(F.normalize(x, p, dim).numpy(), tF.normalize(xt, p, dim).detach().numpy(),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-9)
