"""cross_entropy / nll_loss options and the regression losses against PyTorch (float64)."""
import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.functional as F
from minigrad import nn

tF = torch.nn.functional
TOL = 1e-12
RNG = np.random.default_rng(3)
LOGITS = RNG.normal(size=(7, 4))
LABELS = np.array([0, 3, 1, -100, 2, 3, 1])
WEIGHT = np.array([0.3, 1.7, 1.0, 0.6])
PROBS = RNG.dirichlet(np.ones(4), size=7)


def both(ours, theirs, x, *targets):
    a = mg.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    ya, yb = ours(a, *targets), theirs(b, *targets)
    ya.sum().backward()
    yb.sum().backward()
    np.testing.assert_allclose(ya.numpy(), yb.detach().numpy(), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=TOL)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_class_targets_match_pytorch(reduction, smoothing, weighted):
    w = WEIGHT if weighted else None
    both(lambda x: F.cross_entropy(x, mg.tensor(LABELS), weight=w, reduction=reduction, label_smoothing=smoothing),
         lambda x: tF.cross_entropy(x, torch.tensor(LABELS), weight=None if w is None else torch.tensor(w),
                                    reduction=reduction, label_smoothing=smoothing), LOGITS)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probability_targets_match_pytorch(reduction, smoothing, weighted):
    w = WEIGHT if weighted else None
    both(lambda x: F.cross_entropy(x, mg.tensor(PROBS), weight=w, reduction=reduction, label_smoothing=smoothing),
         lambda x: tF.cross_entropy(x, torch.tensor(PROBS), weight=None if w is None else torch.tensor(w),
                                    reduction=reduction, label_smoothing=smoothing), LOGITS)


def test_cross_entropy_on_nhwc_logits_takes_classes_last():
    logits = RNG.normal(size=(2, 3, 3, 4))
    labels = RNG.integers(0, 4, (2, 3, 3))
    labels[0, 1, 1] = 2
    both(lambda x: F.cross_entropy(x, mg.tensor(labels), weight=WEIGHT, ignore_index=2, label_smoothing=0.1),
         lambda x: tF.cross_entropy(x.permute(0, 3, 1, 2), torch.tensor(labels), weight=torch.tensor(WEIGHT),
                                    ignore_index=2, label_smoothing=0.1), logits)


def test_nll_loss_weighted_mean_and_all_ignored_is_nan_like_pytorch():
    logp = np.log(PROBS)
    both(lambda x: F.nll_loss(x, mg.tensor(LABELS), weight=WEIGHT),
         lambda x: tF.nll_loss(x, torch.tensor(LABELS), weight=torch.tensor(WEIGHT)), logp)
    ignored = np.full(7, -100)
    assert np.isnan(tF.nll_loss(torch.tensor(logp), torch.tensor(ignored)).item())
    with np.errstate(invalid="ignore"):
        assert np.isnan(F.nll_loss(mg.tensor(logp), mg.tensor(ignored)).item())


@pytest.mark.parametrize("name,ours,theirs", [
    ("l1", lambda x, t: F.l1_loss(x, t, reduction="none"), lambda x, t: tF.l1_loss(x, t, reduction="none")),
    ("smooth_l1", lambda x, t: F.smooth_l1_loss(x, t, reduction="none", beta=0.5),
     lambda x, t: tF.smooth_l1_loss(x, t, reduction="none", beta=0.5)),
    ("huber", lambda x, t: F.huber_loss(x, t, reduction="none", delta=0.5),
     lambda x, t: tF.huber_loss(x, t, reduction="none", delta=0.5)),
])
def test_regression_losses_at_their_kinks_match_pytorch(name, ours, theirs):
    x = np.array([0.0, 0.5, -0.5, 0.25, 2.0, -2.0])          # differences 0, +-beta/delta, inside, outside
    t = np.zeros(6)
    both(lambda a: ours(a, mg.tensor(t)), lambda b: theirs(b, torch.tensor(t)), x)


def test_kl_div_zero_target_and_reductions_match_pytorch():
    logq = np.log(PROBS)
    target = PROBS[::-1].copy()
    target[0, 0] = 0.0
    for reduction in ("batchmean", "sum", "none"):
        both(lambda a: F.kl_div(a, mg.tensor(target), reduction=reduction),
             lambda b: tF.kl_div(b, torch.tensor(target), reduction=reduction), logq)


def test_loss_modules_match_pytorch():
    pairs = [
        (nn.CrossEntropyLoss(weight=WEIGHT, label_smoothing=0.2, reduction="sum"),
         torch.nn.CrossEntropyLoss(weight=torch.tensor(WEIGHT), label_smoothing=0.2, reduction="sum"), LABELS),
        (nn.NLLLoss(ignore_index=3), torch.nn.NLLLoss(ignore_index=3), np.abs(LABELS) % 4),
        (nn.L1Loss(), torch.nn.L1Loss(), PROBS), (nn.SmoothL1Loss(beta=0.1), torch.nn.SmoothL1Loss(beta=0.1), PROBS),
        (nn.HuberLoss(delta=0.2), torch.nn.HuberLoss(delta=0.2), PROBS),
        (nn.KLDivLoss(reduction="batchmean"), torch.nn.KLDivLoss(reduction="batchmean"), PROBS),
    ]
    for ours, theirs, target in pairs:
        x = LOGITS if target.dtype.kind == "i" else np.log(PROBS[::-1].copy())
        both(lambda a: ours(a, mg.tensor(target)), lambda b: theirs(b, torch.tensor(target)), x)


def test_bad_loss_arguments_name_the_function_and_shapes():
    x = mg.tensor(LOGITS)
    with pytest.raises(ValueError, match=r"cross_entropy: weight must have shape \(4,\)"):
        F.cross_entropy(x, mg.tensor(LABELS), weight=np.ones(3))
    with pytest.raises(ValueError, match=r"nll_loss: expected input .* got input \(7, 4\) and target \(6,\)"):
        F.nll_loss(x, mg.tensor(LABELS[:6]))
    with pytest.raises(ValueError, match=r"nll_loss: Target 7 is out of bounds for 4 classes: target values must be in \[0, 3\] or ignore_index \(-100\), got 7"):
        F.nll_loss(x, mg.tensor(np.full(7, 7)))
    with pytest.raises(ValueError, match="cross_entropy: label_smoothing"):
        F.cross_entropy(x, mg.tensor(LABELS), label_smoothing=1.5)
    with pytest.raises(ValueError, match="cross_entropy: probability targets must be shaped"):
        F.cross_entropy(x, mg.tensor(PROBS[:, :3]))
    with pytest.raises(ValueError, match="kl_div: reduction"):
        F.kl_div(x, mg.tensor(PROBS), reduction="avg")
    with pytest.raises(ValueError, match="huber_loss: delta"):
        F.huber_loss(x, mg.tensor(PROBS), delta=0.0)
