"""The pooling layers' options, return_indices with MaxUnpool2d, the generic rule for
parameter-free layers named as in torch.nn, and containers rebuilt child by child."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad import interop, nn
from minigrad.tensor import Tensor
from tests.interop.twins import assert_twins

POOL_INPUT = (2, 11, 9, 3)


@pytest.fixture(autouse=True)
def float64():
    mg.set_default_dtype(np.float64)
    yield
    mg.set_default_dtype(np.float32)


def pool_net() -> nn.Sequential:
    """Every pooling option that changes the numbers: dilation, ceil mode, padding left out of
    the average, a divisor override, adaptive windows that overlap (11 -> 4, 9 -> 5)."""
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.MaxPool2d(3, stride=2, padding=1, dilation=2, ceil_mode=True),
        nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        nn.Conv2d(4, 4, 1),
        nn.AvgPool2d(2, stride=1, divisor_override=3),
        nn.Conv2d(4, 4, 1, padding=2))


def adaptive_net() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveMaxPool2d((4, 5)), nn.Conv2d(4, 2, 1),
                         nn.AdaptiveAvgPool2d((3, None)), nn.Flatten(), nn.Linear(2 * 3 * 5, 2))


@pytest.mark.parametrize("make", [pool_net, adaptive_net])
def test_pool_options_convert_both_ways(make) -> None:
    mg.manual_seed(0)
    model = make()
    twin = interop.to_torch(model, POOL_INPUT)
    assert (twin[1].dilation, twin[1].ceil_mode) == (2, True) if make is pool_net else \
        twin[1].output_size == (4, 5)
    if make is pool_net:
        assert (twin[2].ceil_mode, twin[2].count_include_pad, twin[4].divisor_override) == (True, False, 3)
    assert_twins(model, twin, POOL_INPUT)
    back = interop.from_torch(twin, POOL_INPUT)
    assert [repr(m) for m in back.modules()] == [repr(m) for m in model.modules()]
    for key, value in model.state_dict().items():
        assert np.array_equal(back.state_dict()[key], value), key
    assert_twins(back, twin, POOL_INPUT, seed=1)


class UnpoolNet(nn.Module):
    """max pool with indices, a 1x1 conv, and unpooling at those indices (a hand-written forward:
    the (output, indices) pair cannot be a link of a chain)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2, return_indices=True)
        self.mix = nn.Conv2d(4, 4, 1)
        self.unpool = nn.MaxUnpool2d(2)

    def forward(self, x):
        y, indices = self.pool(self.conv(x))
        return self.unpool(self.mix(y), indices).tanh()


def test_return_indices_and_unpooling_in_a_hand_written_forward() -> None:
    mg.manual_seed(0)
    model = UnpoolNet()
    shape = (2, 6, 8, 3)
    twin = interop.to_torch(model, shape)
    assert twin.pool.return_indices and "getitem" in twin.code
    assert_twins(model, twin, shape)
    back = interop.from_torch(twin, shape)                  # torch.fx sees the pair's getitems
    assert isinstance(back, interop.Traced)
    assert_twins(back, twin, shape, seed=1)
    x = np.random.default_rng(2).uniform(-1, 1, shape)
    report = interop.compare(model.train(), None, x)
    assert report.first_divergent is None
    assert [row.name for row in report.layers] == ["conv: Conv2d", "pool: MaxPool2d", "mix: Conv2d",
                                                   "unpool: MaxUnpool2d"]


def test_a_pair_fed_to_the_next_layer_of_a_chain_is_refused() -> None:
    model = nn.Sequential(nn.MaxPool2d(2, return_indices=True), nn.ReLU())
    with pytest.raises(ValueError, match=r"1: ReLU is given tuple, not a tensor \(a pool with "
                                         r"return_indices=True returns \(output, indices\)"):
        interop.to_torch(model, (1, 4, 4, 1))


PARAMETER_FREE = ["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Identity", "Dropout"]


def test_parameter_free_layers_need_no_table_entry() -> None:
    assert not set(PARAMETER_FREE) & set(interop.CONVERTERS)      # the generic rule converts them
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.LeakyReLU(0.2), nn.Sigmoid(), nn.Tanh(),
                          nn.Identity(), nn.Dropout(0.3), nn.Flatten(), nn.Linear(3 * 3 * 4, 2))
    shape = (2, 5, 6, 2)
    twin = interop.to_torch(model, shape)
    assert [type(m).__name__ for m in twin] == [type(m).__name__ for m in model]
    assert (twin[2].negative_slope, twin[6].p) == (0.2, 0.3)
    assert_twins(model, twin, shape)
    torch_net = torch.nn.Sequential(torch.nn.Conv2d(2, 2, 1), torch.nn.ReLU(inplace=True),
                                    torch.nn.LeakyReLU(0.3, inplace=True),
                                    torch.nn.Dropout(0.1), torch.nn.Identity(54)).double()
    back = interop.from_torch(torch_net, (1, 3, 3, 2))            # inplace changes no value: dropped
    assert not any(getattr(m, "inplace", False) for m in interop.to_torch(back, (1, 3, 3, 2)))
    assert [repr(m) for m in back][1:] == ["ReLU()", "LeakyReLU(negative_slope=0.3)", "Dropout(p=0.1)",
                                       "Identity()"]
    assert_twins(back, interop.to_torch(back, (1, 3, 3, 2)), (1, 3, 3, 2))


class Hardshrink(nn.Module):
    """A layer minigrad.nn does not have yet (as a new activation would arrive), named as in torch.nn."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, x):
        return x * Tensor((np.abs(x.data) > self.lambd).astype(x.dtype))


class ELU(nn.Module):
    """An ELU without torch's alpha argument."""

    def forward(self, x):
        return x.relu() + (x - x.relu()).exp() - 1.0


class Softmax(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x):
        e = (x - x.amax(dim=self.dim, keepdim=True)).exp()
        return e / e.sum(dim=self.dim, keepdim=True)


class Upsample(nn.Module):
    def __init__(self, scale_factor: int) -> None:
        super().__init__()
        self.scale_factor = scale_factor

    def forward(self, x):
        return Tensor(x.data.repeat(self.scale_factor, 1).repeat(self.scale_factor, 2))


@pytest.fixture
def new_layers(monkeypatch):
    for cls in (Hardshrink, ELU, Softmax, Upsample):
        monkeypatch.setattr(nn, cls.__name__, cls, raising=False)


def test_a_new_layer_named_as_in_torch_converts_with_its_arguments(new_layers) -> None:
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 1), Hardshrink(0.3))
    twin = interop.to_torch(model, (2, 4, 4, 2))
    assert isinstance(twin[1], torch.nn.Hardshrink) and twin[1].lambd == 0.3
    assert_twins(model, twin, (2, 4, 4, 2))
    back = interop.from_torch(torch.nn.Sequential(torch.nn.Hardshrink(0.25)), (1, 3))
    assert isinstance(back[0], Hardshrink) and back[0].lambd == 0.25


def test_the_generic_rule_refuses_what_it_cannot_keep(new_layers) -> None:
    with pytest.raises(ValueError, match=r"from_torch: 0: ELU: alpha=0.5 has no equivalent in minigrad's ELU"):
        interop.from_torch(torch.nn.Sequential(torch.nn.ELU(alpha=0.5)), (1, 3))
    assert isinstance(interop.from_torch(torch.nn.Sequential(torch.nn.ELU()), (1, 3))[0], ELU)
    with pytest.raises(ValueError, match=r"1: Softmax: its dim arguments count dims differently in NHWC and "
                                         r"NCHW; a 4-D image input"):
        interop.to_torch(nn.Sequential(nn.Conv2d(1, 2, 1), Softmax(dim=3)), (1, 3, 3, 1))
    plain = nn.Sequential(nn.Linear(3, 4), Softmax(dim=1))
    assert_twins(plain, interop.to_torch(plain, (2, 3)), (2, 3))
    with pytest.raises(ValueError, match=r"0: Upsample: converted by the generic rule for parameter-free "
                                         r"layers, .* maps \(1, 2, 2, 1\) to \(1, 4, 4, 1\)"):
        interop.to_torch(nn.Sequential(Upsample(2)), (1, 2, 2, 1))


class ModuleList(nn.Module):
    """A container with children by name, as the one nn will have (used while nn lacks it)."""

    def __init__(self, modules=()) -> None:
        super().__init__()
        for module in modules:
            setattr(self, str(len(self._modules)), module)

    def __iter__(self):
        return iter(self._modules.values())


class ModuleDict(nn.Module):
    def __init__(self, modules=None) -> None:
        super().__init__()
        for name, module in (modules or {}).items():
            setattr(self, name, module)

    def __getitem__(self, name):
        return self._modules[name]


@pytest.fixture
def containers(monkeypatch):
    for cls in (ModuleList, ModuleDict):
        if not hasattr(nn, cls.__name__):
            monkeypatch.setattr(nn, cls.__name__, cls, raising=False)
    return nn.ModuleList, nn.ModuleDict


class Tower(nn.Module):
    def __init__(self, module_list, module_dict) -> None:
        super().__init__()
        self.blocks = module_list([nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Conv2d(3, 3, 1)])
        self.heads = module_dict({"pool": nn.AdaptiveAvgPool2d(1), "out": nn.Linear(3, 2)})

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.heads["out"](self.heads["pool"](x).flatten(1))


def test_containers_rebuild_child_by_child_with_the_same_names(containers) -> None:
    mg.manual_seed(0)
    model = Tower(*containers)
    shape = (2, 5, 4, 2)
    twin = interop.to_torch(model, shape)
    assert isinstance(twin.blocks, torch.nn.ModuleList) and isinstance(twin.heads, torch.nn.ModuleDict)
    assert [n for n, _ in twin.named_parameters()] == [n for n, _ in model.named_parameters()]
    assert_twins(model, twin, shape)
    back = interop.from_torch(twin, shape)
    assert type(back.blocks) is containers[0] and type(back.heads) is containers[1]
    for key, value in model.state_dict().items():
        assert np.array_equal(back.state_dict()[key], value), key
    assert_twins(back, twin, shape, seed=1)
