"""The seed's SimpLeNet and an improved CNN under 500,000 parameters; both end on one
sigmoid neuron (the probability that the part is defective) and train with BCE."""
from __future__ import annotations

import torch
from torch import nn

PARAMETER_LIMIT = 500_000                # the seed's budget for the improved model


class SimpLeNet(nn.Module):
    """Seed Question 3.3, exactly: conv K=3 P=1 S=1, 16 filters + ReLU; max-pool K=2 S=2;
    fully connected 16 + ReLU; fully connected 1 + sigmoid. x (N,1,S,S) -> p (N,1)."""

    def __init__(self, image_size: int, in_channels: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 16, kernel_size=3, padding=1, stride=1)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.fc1 = nn.Linear(16 * (image_size // 2) ** 2, 16)
        self.fc2 = nn.Linear(16, 1)

    def forward(self, x):
        x = self.pool(self.conv(x).relu())
        return self.fc2(self.fc1(x.flatten(1)).relu()).sigmoid()


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """conv 3x3 + batch norm + ReLU, then max-pool 2 (halves the size)."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU(inplace=True), nn.MaxPool2d(2))


class GlobalAvgMaxPool(nn.Module):
    """(N,C,H,W) -> (N,2C): the mean and the max of every channel. The max keeps a small
    defect's signal, which the mean alone dilutes over the whole part."""

    def forward(self, x):
        return torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)


class ImprovedNet(nn.Module):
    """Five conv blocks (16-32-64-96-128 channels, each halving the size), global average and
    max pooling, dropout, one fully connected neuron + sigmoid. About 190k parameters at any
    image size (the pooling makes the head independent of it). x (N,1,S,S) -> p (N,1)."""

    def __init__(self, image_size: int, in_channels: int = 1, dropout: float = 0.3) -> None:
        super().__init__()
        widths = (in_channels, 16, 32, 64, 96, 128)
        self.features = nn.Sequential(*(conv_block(a, b) for a, b in zip(widths, widths[1:])))
        self.head = nn.Sequential(GlobalAvgMaxPool(), nn.Dropout(dropout), nn.Linear(2 * widths[-1], 1))

    def forward(self, x):
        return self.head(self.features(x)).sigmoid()


MODELS = {"simplenet": SimpLeNet, "improved": ImprovedNet}


def trainable_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def build_model(name: str, image_size: int) -> nn.Module:
    """The model called ``name`` for square grayscale images of side ``image_size``."""
    if name not in MODELS:
        raise ValueError(f"build_model: unknown model {name!r}; choose one of {sorted(MODELS)}")
    if image_size < 32 and name == "improved":
        raise ValueError(f"build_model: the improved model halves the image 5 times and needs "
                         f"--image-size >= 32, got {image_size}")
    return MODELS[name](image_size)


def check_parameter_budget(model: nn.Module, limit: int = PARAMETER_LIMIT) -> int:
    """The trainable-parameter count; ValueError when it reaches ``limit``."""
    count = trainable_parameters(model)
    if count >= limit:
        raise ValueError(f"{type(model).__name__} has {count:,} trainable parameters; the "
                         f"limit is {limit:,}")
    return count
