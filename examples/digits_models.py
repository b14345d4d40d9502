"""The digits trainer's models, written as a PyTorch user would write them (NHWC inputs).

``small_cnn`` is the plain CNN; ``ResidualDigitsNet`` a small ResNet: a 3x3 stem, two
residual blocks with BatchNorm (the second halves the resolution and doubles the channels,
so its shortcut is a strided 1x1 projection), global average pooling and a linear head.
Global pooling makes it work at any input size (8x8 digits, 28x28 MNIST-sized images).
"""
from __future__ import annotations

import minigrad as mg
from minigrad import nn


def small_cnn() -> nn.Module:
    """Two 3x3 convs, a 2x2 max-pool, dropout and two linear layers, for 8x8 inputs."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(4 * 4 * 32, 64), nn.ReLU(), nn.Linear(64, 10))


class ResidualBlock(nn.Module):
    """relu(bn(conv(relu(bn(conv(x))))) + shortcut(x)), the basic block of He et al. (2016)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        if stride != 1 or in_channels != out_channels:          # shapes differ: project x
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResidualDigitsNet(nn.Module):
    """stem 1->16, block 16->16, block 16->32 stride 2, global average pool, linear 32->10."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.block1 = ResidualBlock(16, 16)
        self.block2 = ResidualBlock(16, 32, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        x = self.block2(self.block1(self.stem(x)))
        return self.fc(self.flatten(self.pool(x)))


MODELS = {"cnn": small_cnn, "resnet": ResidualDigitsNet}
