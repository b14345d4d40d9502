"""nn.summary: a Keras-style table of layers, output shapes and parameter counts."""
from __future__ import annotations

from minigrad.autograd import no_grad
from minigrad.creation import zeros
from minigrad.nn import layers
from minigrad.nn.module import Module

IMAGE_LAYERS = (layers.Conv2d, layers.MaxPool2d, layers.AvgPool2d, layers.AdaptiveAvgPool2d, layers.BatchNorm2d)


def with_batch(model: Module, input_size: tuple, batch_dim: int | None = None) -> tuple[tuple, bool]:
    """The size to run ``model`` on and whether ``input_size`` already held the batch.

    ``batch_dim=0`` says the size excludes the batch (torchsummary's convention); with
    ``batch_dim=None`` it is told from the first layer that fixes the input's rank: an image
    layer (Conv2d, pooling, BatchNorm2d) takes (N, H, W, C), so a 4-entry size includes the
    batch and a 3-entry one does not; Linear and BatchNorm1d take (N, features): 2 entries
    include it, 1 does not (torchinfo users type the batch, torchsummary users leave it out).
    Other first layers: the size excludes the batch.
    """
    input_size = tuple(int(n) for n in input_size)
    if batch_dim is not None:
        if batch_dim != 0:
            raise ValueError(f"summary: batch_dim must be None or 0 (NHWC puts the batch first), got {batch_dim}")
        return (1, *input_size), False
    first = next((m for m in model.modules() if isinstance(m, IMAGE_LAYERS + (layers.Linear, layers.BatchNorm1d))),
                 None)
    rank = 4 if isinstance(first, IMAGE_LAYERS) else 2 if first is not None else None
    if rank is not None and len(input_size) == rank:
        return input_size, True
    return (1, *input_size), False


def summary(model: Module, input_size: tuple, batch_dim: int | None = None) -> str:
    """Run ``model`` on zeros and tabulate every leaf module's output shape and parameters.

    ``input_size`` may include the batch dimension or not (see ``with_batch``: e.g.
    (8, 8, 1) and (32, 8, 8, 1) both work for a CNN); without it the table shows the batch
    as None, with it the batch size given.
    """
    size, batched = with_batch(model, input_size, batch_dim)
    batch = str(size[0]) if batched else "None"
    rows, originals = [], {}
    leaves = [(name, m) for name, m in model.named_modules() if not m._modules and name]

    def recording(name: str, module: Module):
        def forward(*args, **kwargs):
            out = originals[name](*args, **kwargs)
            own = sum(p.numel() for p in module._parameters.values() if p is not None)
            rows.append((f"{name} ({type(module).__name__})", f"({batch}, " + ", ".join(map(str, out.shape[1:])) + ")", own))
            return out
        return forward

    was_training = model.training
    try:
        for name, module in leaves:
            originals[name] = module.forward
            object.__setattr__(module, "forward", recording(name, module))
        model.eval()
        with no_grad():
            model(zeros(*size))
    finally:
        for name, module in leaves:
            module.__dict__.pop("forward", None)
        model.train(was_training)

    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    headers = ("Layer (type)", "Output Shape", "Param #")
    widths = [max(len(headers[0]), *(len(r[0]) for r in rows)) + 2,
              max(len(headers[1]), *(len(r[1]) for r in rows)) + 2, 12]
    rule = "=" * sum(widths)
    lines = [f"Model: {type(model).__name__}", rule,
             f"{headers[0]:<{widths[0]}}{headers[1]:<{widths[1]}}{headers[2]:>{widths[2]}}", rule]
    lines += [f"{layer:<{widths[0]}}{shape:<{widths[1]}}{count:>{widths[2]},}" for layer, shape, count in rows]
    lines += [rule, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total - trainable:,}", "_" * sum(widths)]
    return "\n".join(lines)
