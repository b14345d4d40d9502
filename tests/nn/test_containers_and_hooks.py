"""ModuleList/ModuleDict, traversal helpers and module hooks, against PyTorch's semantics."""
import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad import nn


def twin(lib):
    shared = lib.Linear(3, 3)
    model = lib.Module()
    model.blocks = lib.ModuleList([shared, lib.ReLU(), shared])
    model.heads = lib.ModuleDict({"a": lib.Linear(3, 2), "b": lib.Sequential(lib.Linear(3, 1), lib.Tanh())})
    return model


def test_named_modules_parameters_and_apply_follow_pytorch():
    ours, theirs = twin(nn), twin(torch.nn)
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert ([n for n, _ in ours.named_modules(remove_duplicate=False)]
            == [n for n, _ in theirs.named_modules(remove_duplicate=False)])
    assert [n for n, _ in ours.named_modules(prefix="m")] == [n for n, _ in theirs.named_modules(prefix="m")]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    order, order_t = [], []
    ours.apply(lambda m: order.append(type(m).__name__))
    theirs.apply(lambda m: order_t.append(type(m).__name__))
    assert order == order_t
    assert type(ours.get_submodule("heads.b.0")).__name__ == "Linear"
    with pytest.raises(AttributeError, match="get_submodule: ModuleDict has no submodule 'c'"):
        ours.get_submodule("heads.c")
    ours.requires_grad_(False)
    assert not any(p.requires_grad for p in ours.parameters())


def test_module_list_and_dict_behave_like_lists_and_dicts():
    layers = nn.ModuleList([nn.ReLU()])
    layers.append(nn.Tanh()).extend([nn.Sigmoid()])
    layers.insert(0, nn.Identity())
    layers += [nn.Flatten()]
    assert [type(m).__name__ for m in layers] == ["Identity", "ReLU", "Tanh", "Sigmoid", "Flatten"]
    assert type(layers[-1]).__name__ == "Flatten" and len(layers[1:3]) == 2
    del layers[0]
    assert list(layers._modules) == ["0", "1", "2", "3"]
    with pytest.raises(IndexError, match="ModuleList: index 7 is out of range for 4 modules"):
        layers[7]
    heads = nn.ModuleDict([("x", nn.ReLU())])
    heads["y"] = nn.Tanh()
    assert list(heads) == ["x", "y"] and "y" in heads and type(heads.pop("x")).__name__ == "ReLU"
    with pytest.raises(KeyError, match="attribute 'keys' already exists"):
        heads["keys"] = nn.ReLU()
    model = nn.Module()
    model.add_module("body", nn.Linear(2, 2))
    model.register_module("head", nn.Linear(2, 1))
    assert list(dict(model.named_parameters())) == ["body.weight", "body.bias", "head.weight", "head.bias"]


def test_forward_hooks_replace_arguments_and_outputs_and_are_removable():
    layer = nn.Linear(2, 2)
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = layer.register_forward_hook(lambda m, args, out: calls.append(out.shape))
    x = mg.ones(3, 2)
    np.testing.assert_allclose(layer(x).numpy(), np.broadcast_to(layer.bias.numpy(), (3, 2)))
    pre.remove()
    post.remove()
    layer(x)
    assert calls == [(3, 2)]


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")   # torch's note for the no-grad input
@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_full_backward_hook_sees_and_replaces_gradients_like_pytorch(input_requires_grad):
    rng = np.random.default_rng(0)
    w, b, x = rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=(4, 2))
    ours, theirs = nn.Linear(2, 3).double(), torch.nn.Linear(2, 3).double()
    ours.load_state_dict({"weight": w, "bias": b})
    theirs.load_state_dict({"weight": torch.tensor(w.T), "bias": torch.tensor(b)})
    seen = {"ours": [], "theirs": []}

    def hook(key):
        def record(module, grad_input, grad_output):
            seen[key].append([None if g is None else np.array(g.numpy()) for g in grad_input + grad_output])
            return None if grad_input[0] is None else (grad_input[0] * 2,)
        return record

    ours.register_full_backward_hook(hook("ours"))
    theirs.register_full_backward_hook(hook("theirs"))
    xo = mg.tensor(x, requires_grad=input_requires_grad)
    xt = torch.tensor(x, requires_grad=input_requires_grad)
    (ours(xo).tanh() ** 2).sum().backward()
    (theirs(xt).tanh() ** 2).sum().backward()
    assert len(seen["ours"]) == len(seen["theirs"]) == 1
    for a, b in zip(seen["ours"][0], seen["theirs"][0]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12)
    if input_requires_grad:
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy().T, rtol=1e-12)


def test_subpackages_are_reachable_from_the_package():
    import minigrad
    assert minigrad.nn.Linear is nn.Linear and minigrad.functional.gelu is not None
    assert minigrad.optim.SGD is not None and minigrad.autograd.grad is not None
