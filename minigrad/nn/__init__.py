"""Neural-network building blocks shaped like ``torch.nn`` (NHWC images)."""
from minigrad.nn import init, utils
from minigrad.nn.layers import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout,
                                Flatten, Identity, LeakyReLU, Linear, MaxPool2d, ReLU, Sequential, Sigmoid,
                                Tanh)
from minigrad.nn.layers import ConvTranspose2d
from minigrad.nn.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from minigrad.nn.module import Module, Parameter
from minigrad.nn.summary import summary

__all__ = [
    "Module", "Parameter", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "ReLU",
    "LeakyReLU", "Sigmoid", "Tanh", "Identity", "Flatten", "Dropout", "Sequential", "BatchNorm2d",
    "BatchNorm1d", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss", "summary", "init", "utils",
    "ConvTranspose2d",
]
