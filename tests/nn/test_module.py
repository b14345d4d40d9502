"""Module: registration, traversal, state dicts, modes, repr, summary, init."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Linear(4 * 4 * 4, 3)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.classifier(self.drop(self.features(x).flatten(1)))


def test_named_parameters_use_pytorchs_dotted_names() -> None:
    names = [name for name, _ in Net().named_parameters()]
    assert names == ["features.0.weight", "features.0.bias", "classifier.weight", "classifier.bias"]
    assert [n for n, _ in Net().named_children()] == ["features", "classifier", "drop"]


def test_state_dict_copies_and_includes_buffers() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    sd = model.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"]
    sd["0.weight"][...] = 7
    assert not np.any(model[0].weight.numpy() == 7)


def test_load_state_dict_round_trip_bumps_versions() -> None:
    a, b = Net(), Net()
    version = b.classifier.weight._version
    b.load_state_dict(a.state_dict())
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
    assert b.classifier.weight._version == version + 1


def test_load_state_dict_lists_every_problem_in_one_error() -> None:
    sd = Net().state_dict()
    del sd["classifier.bias"]
    sd["extra.weight"] = np.zeros(2)
    sd["features.0.weight"] = np.zeros((5, 5, 1, 4))
    with pytest.raises(RuntimeError) as error:
        Net().load_state_dict(sd)
    message = str(error.value)
    assert "missing keys: classifier.bias" in message and "unexpected keys: extra.weight" in message
    assert "features.0.weight: checkpoint (5, 5, 1, 4), model (3, 3, 1, 4)" in message


def test_non_strict_load_ignores_missing_and_unexpected_keys() -> None:
    sd = Net().state_dict()
    del sd["classifier.bias"]
    sd["extra"] = np.zeros(1)
    Net().load_state_dict(sd, strict=False)


def test_train_and_eval_switch_dropout() -> None:
    model = Net()
    x = mg.ones(4, 8, 8, 1)
    model.eval()
    assert not model.drop.training
    np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())
    model.train()
    assert model.drop.training and model.features[0].training


def test_repr_reads_like_pytorch() -> None:
    text = repr(Net())
    assert "(features): Sequential(" in text
    assert "(0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))" in text
    assert "(classifier): Linear(in_features=64, out_features=3, bias=True)" in text


def test_summary_lists_layers_shapes_and_totals() -> None:
    text = nn.summary(Net(), (8, 8, 1))
    assert "features.0 (Conv2d)" in text and "(None, 8, 8, 4)" in text and "(None, 3)" in text
    assert "Total params: 235" in text and "Trainable params: 235" in text


def test_default_init_bounds_match_pytorch() -> None:
    mg.manual_seed(0)
    conv, linear = nn.Conv2d(3, 8, 5), nn.Linear(20, 4)
    for layer, fan_in in ((conv, 75), (linear, 20)):
        bound = 1 / math.sqrt(fan_in)
        assert 0.8 * bound < np.abs(layer.weight.numpy()).max() <= bound     # many samples: near the bound
        assert np.abs(layer.bias.numpy()).max() <= bound
    torch_conv = torch.nn.Conv2d(3, 8, 5)
    assert abs(torch_conv.weight.abs().max().item() - np.abs(conv.weight.numpy()).max()) < 0.05


def test_init_functions_follow_their_formulas() -> None:
    mg.manual_seed(1)
    w = nn.Parameter(mg.zeros(400, 300))
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(w.numpy().std() - math.sqrt(2 / 400)) < 0.002
    nn.init.xavier_uniform_(w)
    assert np.abs(w.numpy()).max() <= math.sqrt(6 / 700)
    nn.init.kaiming_uniform_(w, nonlinearity="relu")
    assert np.abs(w.numpy()).max() <= math.sqrt(2) * math.sqrt(3 / 400)
    assert nn.init.zeros_(w).numpy().sum() == 0 and nn.init.ones_(w).numpy().mean() == 1


def test_layers_reject_wrong_input_shapes_with_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"Conv2d: expected input \(N, H, W, C\) with 1 in the last dimension, got shape \(2, 1, 8, 8\)"):
        nn.Conv2d(1, 4, 3)(mg.zeros(2, 1, 8, 8))
    with pytest.raises(ValueError, match=r"linear: input \(2, 63\) and weight \(64, 3\) don't fit"):
        nn.Linear(64, 3)(mg.zeros(2, 63))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected input \(N, H, W, C\) with 4"):
        nn.BatchNorm2d(4)(mg.zeros(2, 4, 3, 3))


def test_batchnorm_matches_pytorch_in_train_and_eval() -> None:
    x = np.random.default_rng(0).standard_normal((6, 4, 4, 3))
    ours, theirs = nn.BatchNorm2d(3).double(), torch.nn.BatchNorm2d(3).double()
    xt = mg.tensor(x, requires_grad=True)
    tt = torch.tensor(x, requires_grad=True)
    y, y_torch = ours(xt), theirs(tt.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    np.testing.assert_allclose(y.numpy(), y_torch.detach().numpy(), atol=1e-10)
    g = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(g)
    y_torch.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad.numpy(), tt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), atol=1e-12)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(),
                               theirs(torch.tensor(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).detach().numpy(),
                               atol=1e-10)


def test_adaptive_avg_pool_and_clip_grad() -> None:
    assert nn.AdaptiveAvgPool2d(1)(mg.ones(2, 5, 5, 3)).shape == (2, 1, 1, 3)
    assert nn.AdaptiveAvgPool2d(2)(mg.ones(2, 4, 6, 3)).shape == (2, 2, 2, 3)
    assert nn.AdaptiveAvgPool2d(2)(mg.ones(1, 5, 5, 1)).shape == (1, 2, 2, 1)   # overlapping windows
    p = nn.Parameter(mg.zeros(4))
    p.grad = mg.tensor([3.0, 4.0, 0.0, 0.0])
    assert nn.utils.clip_grad_norm_([p], 1.0) == pytest.approx(5.0)
    assert np.linalg.norm(p.grad.numpy()) == pytest.approx(1.0, rel=1e-5)
    nn.utils.clip_grad_value_(p, 0.5)
    assert p.grad.numpy().max() <= 0.5


def test_module_scopes_note_the_module_and_stay_in_their_thread() -> None:
    import threading

    from minigrad.nn.module import module_scope

    model = nn.Sequential(nn.Linear(2, 2))
    out = model(mg.ones(1, 2, requires_grad=True))
    assert out.grad_fn.notes["scope"] == ("0", "Linear")
    inside, done = threading.Event(), threading.Event()

    def other_thread():
        with module_scope(model):
            inside.set()
            done.wait(5)
    worker = threading.Thread(target=other_thread)
    worker.start()
    assert inside.wait(5)
    y = mg.ones(2, requires_grad=True) * 2                # recorded here, outside any module
    done.set()
    worker.join(5)
    assert "scope" not in y.grad_fn.notes


def test_module_to_takes_pytorch_arguments_and_cpu_is_the_module() -> None:
    model = nn.Linear(2, 3)
    assert model.to("cpu") is model and model.cpu() is model
    assert model.to("cpu", np.float64).weight.dtype == np.float64
    assert model.to(mg.zeros(1)).weight.dtype == np.float32       # a tensor's dtype
