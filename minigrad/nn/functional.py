"""``import minigrad.nn.functional as F`` works as ``import torch.nn.functional as F`` does:
the same functions as ``minigrad.functional``."""
from minigrad.functional import *  # noqa: F401,F403
