"""The benchmarked models in minigrad (NHWC) and their PyTorch twins (NCHW), layer for layer.

LeNet-style: conv 1->16 3x3 p1, relu, maxpool 2, conv 16->32 3x3 p1, relu, maxpool 2,
flatten, linear 1568->128, relu, linear 128->10 (28x28x1 inputs).
Residual: examples/digits_models.py's ResidualDigitsNet (a PyTorch user's code, in minigrad).
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from minigrad import nn  # noqa: E402
from digits_models import ResidualDigitsNet  # noqa: E402


def minigrad_lenet() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(1568, 128), nn.ReLU(), nn.Linear(128, 10))


def torch_lenet() -> torch.nn.Module:
    tnn = torch.nn
    return tnn.Sequential(tnn.Conv2d(1, 16, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                          tnn.Conv2d(16, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
                          tnn.Linear(1568, 128), tnn.ReLU(), tnn.Linear(128, 10))


class TorchResidualBlock(torch.nn.Module):
    """digits_models.ResidualBlock in PyTorch."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        tnn = torch.nn
        self.conv1 = tnn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = tnn.BatchNorm2d(out_channels)
        self.conv2 = tnn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = tnn.BatchNorm2d(out_channels)
        self.relu = tnn.ReLU()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = tnn.Sequential(tnn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                           tnn.BatchNorm2d(out_channels))
        else:
            self.shortcut = tnn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class TorchResidualDigitsNet(torch.nn.Module):
    """digits_models.ResidualDigitsNet in PyTorch."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        tnn = torch.nn
        self.stem = tnn.Sequential(tnn.Conv2d(1, 16, 3, padding=1, bias=False), tnn.BatchNorm2d(16), tnn.ReLU())
        self.block1 = TorchResidualBlock(16, 16)
        self.block2 = TorchResidualBlock(16, 32, stride=2)
        self.pool = tnn.AdaptiveAvgPool2d(1)
        self.flatten = tnn.Flatten()
        self.fc = tnn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block2(self.block1(self.stem(x)))
        return self.fc(self.flatten(self.pool(x)))


# name -> (minigrad maker, PyTorch maker)
MODELS = {"lenet": (minigrad_lenet, torch_lenet), "resnet": (ResidualDigitsNet, TorchResidualDigitsNet)}
