"""Neural-network building blocks shaped like ``torch.nn`` (NHWC images)."""
from minigrad.nn import functional, init, utils
from minigrad.nn.layers import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout,
                                Flatten, Identity, LeakyReLU, Linear, MaxPool2d, MaxUnpool2d, ReLU, Sequential, Sigmoid,
                                Tanh)
from minigrad.nn.activation import (CELU, ELU, GELU, SELU, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid, Mish,
                                    ReLU6, SiLU, Softplus, Softsign)
from minigrad.nn.containers import ModuleDict, ModuleList
from minigrad.nn.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss,
                              NLLLoss, SmoothL1Loss)
from minigrad.nn.layers import ConvTranspose2d
from minigrad.nn.module import Module, Parameter
from minigrad.nn.summary import summary

__all__ = [
    "Module", "Parameter", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d",
    "MaxUnpool2d", "ReLU",
    "LeakyReLU", "Sigmoid", "Tanh", "Identity", "Flatten", "Dropout", "Sequential", "BatchNorm2d",
    "BatchNorm1d", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss", "summary", "init", "utils", "functional",
    "GELU", "ELU", "SELU", "CELU", "SiLU", "Mish", "Softplus", "Hardtanh", "ReLU6", "Hardswish", "Hardsigmoid",
    "LogSigmoid", "Softsign", "ModuleList", "ModuleDict", "NLLLoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "KLDivLoss",
    "ConvTranspose2d",
]
