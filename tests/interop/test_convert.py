"""to_torch / from_torch / state-dict conversion: exact round trips, float64 twins whose
outputs and parameter gradients match within 1e-8, layouts, and the errors users get."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import minigrad as mg
from examples.casting.models import ImprovedNet, SimpLeNet
from examples.train_digits import make_model as digits_cnn
from minigrad import interop, nn
from tests.interop.models import RESIDUAL_INPUT, STRIDED_INPUT, ResidualNet, strided_net
from tests.interop.twins import assert_twins, randomise_buffers

@pytest.fixture(autouse=True)
def float64():
    mg.set_default_dtype(np.float64)
    yield
    mg.set_default_dtype(np.float32)


MINIGRAD_MODELS = {
    "digits_cnn": (digits_cnn, (2, 8, 8, 1)),
    "strided": (strided_net, STRIDED_INPUT),
    "residual": (ResidualNet, RESIDUAL_INPUT),
}


@pytest.mark.parametrize("name", MINIGRAD_MODELS)
def test_to_torch_twin_matches_outputs_and_parameter_gradients(name) -> None:
    make, shape = MINIGRAD_MODELS[name]
    mg.manual_seed(1)
    model = randomise_buffers(make())
    twin = interop.to_torch(model, shape)
    assert next(twin.parameters()).dtype == torch.float64
    assert [n for n, _ in twin.named_parameters()] == [n for n, _ in model.named_parameters()]
    assert_twins(model, twin, shape)


@pytest.mark.parametrize("name", MINIGRAD_MODELS)
def test_minigrad_torch_minigrad_round_trip_is_exact(name) -> None:
    make, shape = MINIGRAD_MODELS[name]
    model = randomise_buffers(make())
    back = interop.from_torch(interop.to_torch(model, shape), shape)
    original, returned = model.state_dict(), back.state_dict()
    assert list(original) == list(returned)
    for key in original:
        assert np.array_equal(original[key], returned[key]), key


TORCH_MODELS = {
    "simplenet": (lambda: SimpLeNet(12), (2, 12, 12, 1)),
    "improved": (lambda: ImprovedNet(32), (2, 32, 32, 1)),
    "sequential": (lambda: torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, stride=2), torch.nn.ReLU(inplace=True),
                                               torch.nn.Flatten(), torch.nn.Linear(4 * 3 * 4, 2)), (2, 7, 9, 3)),
}


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_from_torch_twin_matches_and_round_trips_exactly(name) -> None:
    make, shape = TORCH_MODELS[name]
    torch.manual_seed(0)
    net = make().double()
    with torch.no_grad():
        for key, buffer in net.named_buffers():
            if buffer.is_floating_point():
                buffer.uniform_(0.5, 1.5)
    net.eval()
    model = interop.from_torch(net, shape)
    assert model.training is False and net.training is False          # modes are kept
    assert_twins(model, net, shape)
    back = interop.to_torch(model, shape).state_dict()
    for key, value in net.state_dict().items():
        if not key.endswith("num_batches_tracked"):             # a counter minigrad does not keep
            assert torch.equal(back[key], value), key


def test_simplenet_forward_is_traced_and_replayed_by_both_twins() -> None:
    model = interop.from_torch(SimpLeNet(8).double(), (1, 8, 8, 1))
    assert isinstance(model, interop.Traced) and repr(model).startswith("Traced[SimpLeNet](")
    twin = interop.to_torch(model, (1, 8, 8, 1))
    assert type(twin).__name__ == "SimpLeNet"
    assert "torch.flatten(pool, start_dim = 1" in twin.code and "torch.sigmoid" in twin.code


def test_flatten_permutation_makes_nhwc_flatten_equal_nchw_flatten() -> None:
    x = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)         # (N, H, W, C)
    perm = interop.flat_permutation((3, 4, 5))
    nchw_flat = x.transpose(0, 3, 1, 2).reshape(2, -1)
    np.testing.assert_array_equal(nchw_flat[:, perm], x.reshape(2, -1))
    np.testing.assert_array_equal(interop.array_from_torch(nchw_flat, (3, 4, 5)), x.reshape(2, -1))


def test_state_dicts_convert_both_ways_for_existing_models() -> None:
    model = randomise_buffers(strided_net())
    torch_sd = interop.state_dict_to_torch(model.state_dict(), model, STRIDED_INPUT)
    twin = interop.to_torch(model, STRIDED_INPUT)
    twin.load_state_dict(torch_sd)                              # strict: every key, num_batches_tracked too
    assert torch_sd["0.weight"].shape == (4, 2, 3, 3) and torch_sd["11.weight"].shape == (3, 20)
    other = strided_net()
    other.load_state_dict(interop.state_dict_from_torch(torch_sd, other, STRIDED_INPUT))
    for key, value in model.state_dict().items():
        assert np.array_equal(other.state_dict()[key], value), key
    del torch_sd["4.bias"]
    with pytest.raises(KeyError, match=r"no '4.bias' for 4: Conv2d"):
        interop.state_dict_from_torch(torch_sd, other, STRIDED_INPUT)


def test_load_state_dict_of_a_pytorch_checkpoint_points_to_the_converter() -> None:
    model = digits_cnn()
    torch_sd = interop.to_torch(model, (1, 8, 8, 1)).state_dict()
    with pytest.raises(RuntimeError, match=r"looks like a PyTorch state_dict \(0.weight is \(16, 1, 3, 3\), "
                                           r"PyTorch's order of minigrad's \(3, 3, 1, 16\).*state_dict_from_torch"):
        model.load_state_dict({k: v.numpy() for k, v in torch_sd.items()})
    square = nn.Sequential(nn.Linear(4, 4))                    # same shape in both layouts
    with pytest.raises(RuntimeError, match=r"values are torch tensors"):
        square.load_state_dict(interop.to_torch(square, (1, 4)).state_dict())
    bn = nn.Sequential(nn.BatchNorm1d(3))
    with pytest.raises(RuntimeError, match=r"0.num_batches_tracked is a PyTorch BatchNorm buffer"):
        bn.load_state_dict({k: v.numpy() for k, v in interop.to_torch(bn, (2, 3)).state_dict().items()})


class OwnWeight(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.scale = nn.Parameter(mg.ones(2))

    def forward(self, x):
        return self.fc(x) * self.scale


class Broadcasting(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 1)
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.conv(x) + self.fc(x.mean(dim=(1, 2)))


def test_unsupported_parts_are_named_with_class_and_path() -> None:
    with pytest.raises(ValueError, match=r"to_torch: \(root\): OwnWeight holds its own parameters or buffers \(scale\)"):
        interop.to_torch(OwnWeight(), (1, 3))
    with pytest.raises(ValueError, match=r"\(root\): Broadcasting \(add\): add of a 4-D image and a plain tensor broadcasts differently"):
        interop.to_torch(Broadcasting(), (1, 4, 4, 3))
    with pytest.raises(ValueError, match=r"1: Linear: a Linear applied to a 4-D map"):
        interop.to_torch(nn.Sequential(nn.Conv2d(1, 2, 1), nn.Linear(2, 2)), (1, 3, 3, 1))
    with pytest.raises(ValueError, match=r"from_torch: 1: Upsample: its forward calls call_function 'interpolate'"):
        interop.from_torch(torch.nn.Sequential(torch.nn.Conv2d(1, 1, 1), torch.nn.Upsample(scale_factor=2)),
                           (1, 2, 2, 1))
    with pytest.raises(ValueError, match=r"from_torch: 0: Conv2d: padding_mode='reflect' has no minigrad"):
        interop.from_torch(torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, padding_mode="reflect")), (1, 4, 4, 1))


class ViewNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 2, 3)

    def forward(self, x):
        return torch.softmax(self.conv(x), dim=1)


def test_untranslatable_torch_op_is_named() -> None:
    with pytest.raises(ValueError, match=r"from_torch: \(root\): ViewNet: its forward calls call_function "
                                         r"'softmax', which has no minigrad translation"):
        interop.from_torch(ViewNet(), (1, 5, 5, 1))


def test_minigrad_never_imports_torch_and_interop_says_how_to_install_it() -> None:
    code = ("import sys; import minigrad, minigrad.interop; assert 'torch' not in sys.modules; "
            "sys.modules['torch'] = None\n"
            "try:\n    minigrad.interop.to_torch(minigrad.nn.Linear(2, 2), (1, 2))\n"
            "except ImportError as e:\n    print(e)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install torch" in result.stdout


def test_grouped_conv_converts() -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(4, 6, 3, groups=2), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(6 * 3 * 4, 2)).double()
    shape = (2, 5, 6, 4)
    model = interop.from_torch(net, shape)
    assert model[0].weight.shape == (3, 3, 2, 6)                    # (KH, KW, C_in/G, C_out)
    assert_twins(model, net, shape)
    back = interop.to_torch(model, shape).state_dict()
    assert all(torch.equal(back[k], v) for k, v in net.state_dict().items())


class ReshapeNet(nn.Module):
    """reshape(N, -1) of a map is a flatten (permuted for the Linear); a plain reshape stays one."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 2)
        self.fc = nn.Linear(3 * 3 * 4, 6)

    def forward(self, x):
        y = self.fc(self.conv(x).reshape(x.shape[0], -1))
        return y.reshape(x.shape[0], 2, 3).sum(dim=2).tanh()


def test_reshape_in_a_hand_written_forward() -> None:
    model = ReshapeNet()
    twin = interop.to_torch(model, (2, 4, 5, 2))
    assert "torch.flatten" in twin.code and "torch.reshape" in twin.code
    assert_twins(model, twin, (2, 4, 5, 2))
