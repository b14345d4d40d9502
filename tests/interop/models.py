"""Small models for the interop tests: NHWC minigrad nets covering every converter-table
layer, a hand-written residual forward, and odd sizes (H != W) so swapped axes show."""
from __future__ import annotations

import minigrad.functional as F
from minigrad import nn

STRIDED_INPUT = (3, 13, 11, 2)
RESIDUAL_INPUT = (2, 9, 7, 3)


def strided_net() -> nn.Sequential:
    """Stride-2 convs, overlapping max pooling (K=3, S=2), padded average pooling, both batch
    norms, and a BatchNorm1d on flattened features (its vectors get the flatten permutation)."""
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.LeakyReLU(0.1),
        nn.MaxPool2d(3, stride=2, padding=1),
        nn.Conv2d(4, 5, (3, 2), stride=(2, 1), padding=(1, 0), dilation=1), nn.Tanh(),
        nn.AvgPool2d(3, stride=1, padding=1), nn.Identity(),
        nn.Flatten(), nn.BatchNorm1d(5 * 2 * 2), nn.Dropout(0.2), nn.Linear(20, 3), nn.Sigmoid())


class ResidualBlock(nn.Module):
    """conv-bn-relu-conv-bn plus a 1x1 projection shortcut, then relu: a hand-written forward."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Conv2d(c_in, c_out, 1)

    def forward(self, x):
        y = self.bn1(self.conv1(x)).relu()
        y = self.bn2(self.conv2(y))
        return (y + self.shortcut(x)).relu()


class ResidualNet(nn.Module):
    """A residual block, global mean and max pooling by hand, and a Linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.block = ResidualBlock(3, 6)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(12, 4)

    def forward(self, x):
        y = self.block(x)
        mean, peak = self.pool(y).flatten(1), y.amax(dim=(1, 2))
        both = F.pad(mean, (0, peak.shape[1])) + F.pad(peak, (mean.shape[1], 0))   # cat, (N, 12)
        return self.head(both)
