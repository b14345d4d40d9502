"""nn.summary: a Keras-style table of layers, output shapes and parameter counts."""
from __future__ import annotations

from minigrad.autograd import no_grad
from minigrad.creation import zeros
from minigrad.nn.module import Module


def summary(model: Module, input_shape: tuple) -> str:
    """Run ``model`` on zeros of shape (1, *input_shape) and tabulate every leaf module.

    ``input_shape`` excludes the batch dimension, which the table shows as None.
    """
    rows, originals = [], {}
    leaves = [(name, m) for name, m in model.named_modules() if not m._modules and name]

    def recording(name: str, module: Module):
        def forward(*args, **kwargs):
            out = originals[name](*args, **kwargs)
            own = sum(p.numel() for p in module._parameters.values() if p is not None)
            rows.append((f"{name} ({type(module).__name__})", "(None, " + ", ".join(map(str, out.shape[1:])) + ")", own))
            return out
        return forward

    was_training = model.training
    try:
        for name, module in leaves:
            originals[name] = module.forward
            object.__setattr__(module, "forward", recording(name, module))
        model.eval()
        with no_grad():
            model(zeros(1, *input_shape))
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
