"""Draw the figures of docs/conv.md (and the README's graph) into docs/figures/.

Every number in the pictures is computed here, by the functions of
examples/conv_worked_example.py (the seed's helpers), by minigrad, or, for max-pool's NaN
rule, by PyTorch, which minigrad follows.

    python docs/figures/make_figures.py [--out docs/figures]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt                                    # noqa: E402
import numpy as np                                                  # noqa: E402
from matplotlib.patches import Rectangle                            # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import minigrad as mg                                               # noqa: E402
import minigrad.functional as F                                     # noqa: E402
from examples.conv_worked_example import backward_steps, col2im, im2col   # noqa: E402
from examples.image_filters import filter_example, load_example_image, plot_filters   # noqa: E402
from minigrad import nn, viz                                        # noqa: E402

ZERO, VALUE, MARK, MUTED = "#f2f2f2", "#cfe2f3", "#f6b26b", "#d9d9d9"


def grid(ax, values, title: str, colors=None, fmt: str = "{:g}", fontsize: int = 11) -> None:
    """A 2-D array as a table of numbered cells; ``colors`` per cell (default: zeros pale)."""
    values = np.asarray(values, dtype=float)
    rows, cols = values.shape
    for s in range(rows):
        for t in range(cols):
            v = values[s, t]
            color = colors[s][t] if colors is not None else (ZERO if v == 0 else VALUE)
            ax.add_patch(Rectangle((t, s), 1, 1, facecolor=color, edgecolor="#888888", linewidth=0.8))
            text = "NaN" if np.isnan(v) else fmt.format(v)
            ax.text(t + 0.5, s + 0.5, text, ha="center", va="center", fontsize=fontsize,
                    color="#999999" if v == 0 else "black")
    ax.set_xlim(0, cols)
    ax.set_ylim(rows, 0)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=12, pad=8)


def worked_example() -> dict:
    """The 6x6, K=3, S=2, P=1 example of docs/conv.md (r = 1)."""
    x = np.arange(1.0, 37.0).reshape(1, 6, 6, 1)
    k = np.random.default_rng(0).integers(-2, 3, (3, 3, 1, 1)).astype(float)
    g = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    return backward_steps(x, k, g, S=2, pads=(1, 1), D=1)


def zero_insertion(steps: dict, path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6), gridspec_kw={"width_ratios": [3, 5]})
    grid(axes[0], steps["g"][0, :, :, 0], "g = dL/dz  (3 x 3)")
    grid(axes[1], steps["g_z"][0, :, :, 0], "g_z = dilate(g, S=2)  (5 x 5)")
    fig.suptitle("Zero insertion: g[p, q] moves to (p*S, q*S), S - 1 zeros in between", fontsize=13)
    save(fig, path)


def flipped_kernel(steps: dict, path: Path) -> None:
    """gamma with the flipped kernel at three positions, and the entries of dx_pad they make."""
    gamma, kappa = steps["gamma"][0, :, :, 0], steps["kappa"][:, :, 0, 0]
    short = steps["dx_pad_short"][0, :, :, 0]
    positions = [(0, 0), (2, 2), (3, 4)]
    fig, axes = plt.subplots(1, 4, figsize=(17, 5), gridspec_kw={"width_ratios": [3, 9, 9, 7]})
    grid(axes[0], kappa, "kappa (k flipped)")
    for ax, (s, t), color in zip(axes[1:3], positions[1:], ("#cc0000", "#1155cc")):
        total = float(np.sum(kappa * gamma[s:s + 3, t:t + 3]))
        grid(ax, gamma, f"gamma, kappa at ({s}, {t}):\nsum of kappa * gamma = {total:g} = dx_pad_short[{s}, {t}]",
             fontsize=10)
        ax.add_patch(Rectangle((t, s), 3, 3, fill=False, edgecolor=color, linewidth=3))
    colors = [[MUTED if (s, t) not in positions[1:] else ("#f4cccc" if (s, t) == positions[1] else "#c9daf8")
               for t in range(short.shape[1])] for s in range(short.shape[0])]
    grid(axes[3], short, "dx_pad_short (7 x 7)", colors=colors, fontsize=10)
    fig.suptitle("Eq. 12: the flipped kernel slides over gamma (g_z padded by K - 1 = 2), stride 1",
                 fontsize=13)
    save(fig, path)


def remainder(path: Path) -> None:
    """H = 9, K = 3, S = 3, P = 1: Hp = 11, windows cover rows 0-8, rows 9-10 are never read."""
    Hp, K, S, P = 11, 3, 3, 1
    OH = (Hp - K) // S + 1
    r = (Hp - K) % S
    x = np.random.default_rng(0).standard_normal((1, 9, 9, 1))
    w = np.ones((K, K, 1, 1))
    xt = mg.tensor(x, requires_grad=True)
    F.conv2d(xt, mg.tensor(w), stride=S, padding=P).sum().backward()
    reads = np.zeros((Hp, Hp))
    reads[P:Hp - P, P:Hp - P] = xt.grad.numpy()[0, :, :, 0]        # windows reading each pixel
    colors = [[(MARK if max(s, t) >= Hp - r else (MUTED if min(s, t) < P or max(s, t) >= Hp - P else VALUE))
               for t in range(Hp)] for s in range(Hp)]
    fig, ax = plt.subplots(figsize=(8, 9))
    grid(ax, reads, "", colors=colors)
    for p in range(OH):
        ax.add_patch(Rectangle((0.05, p * S + 0.05), Hp - 0.1, K - 0.1, fill=False, edgecolor="#cc0000",
                               linewidth=1.5, linestyle="--"))
    ax.set_title(f"x_pad: a 9 x 9 input with P = {P} (grey), 3 x 3 windows, S = {S} (red: window rows)\n"
                 f"number = windows reading the pixel; OH = {OH}, r = (11 - 3) mod 3 = {r}\n"
                 f"orange: the r rows and columns no window reads (gradient 0).\n"
                 f"Eq. 12 yields Hp - r = 9 rows: append r zero rows, then crop P", fontsize=12)
    save(fig, path)


def im2col_figure(path: Path) -> None:
    """x 3x3, K = 2, S = 1: cols (4, 4); col2im of all-ones counts the windows per pixel."""
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    cols = im2col(x, 2, 1, 1)
    counts = col2im(np.ones_like(cols), x.shape, 2, 1, 1)[0, :, :, 0]
    fills, edges = ["#f4cccc", "#d9ead3", "#c9daf8", "#fff2cc"], ["#cc0000", "#38761d", "#1155cc", "#bf9000"]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.8), gridspec_kw={"width_ratios": [3, 4, 3]})
    grid(axes[0], x[0, :, :, 0], "x_pad (3 x 3), windows 2 x 2")
    for w, (p, q) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        inset = 0.06 * (w + 1)
        axes[0].add_patch(Rectangle((q + inset, p + inset), 2 - 2 * inset, 2 - 2 * inset, fill=False,
                                    edgecolor=edges[w], linewidth=2))
    grid(axes[1], cols, "cols = im2col(x_pad): one row per window\nz = cols @ W,  dW = cols.T @ g",
         colors=[[fills[row]] * 4 for row in range(4)])
    grid(axes[2], counts, "col2im(ones): windows per pixel\ndx = col2im(g @ W.T) adds rows back")
    fig.suptitle("im2col copies every window into a row; its adjoint col2im sums the rows back", fontsize=13)
    save(fig, path)


def pytorch_max_pool_gradient(x: np.ndarray) -> np.ndarray:
    """The gradient PyTorch's max_pool2d(2) routes for g = 1 (one 2x2 plane)."""
    import torch

    t = torch.tensor(x[None, None], requires_grad=True)
    torch.nn.functional.max_pool2d(t, 2).sum().backward()
    return t.grad[0, 0].numpy()


def maxpool_routing(path: Path) -> None:
    windows = {"a tie: the first max wins": np.array([[3.0, 1.0], [2.0, 3.0]]),
               "a NaN: it goes to the NaN": np.array([[3.0, np.nan], [2.0, 1.0]])}
    fig, axes = plt.subplots(2, 2, figsize=(8, 7.4))
    for row, (name, x) in enumerate(windows.items()):
        grad = pytorch_max_pool_gradient(x)
        colors = [[MARK if grad[s, t] else VALUE for t in range(2)] for s in range(2)]
        grid(axes[row, 0], x, f"window, {name}", colors=colors, fontsize=14)
        grid(axes[row, 1], grad, "gradient for g = 1", colors=colors, fontsize=14)
    fig.suptitle("max_pool2d backward: all of g goes to one position", fontsize=13)
    save(fig, path)


def readme_graph(path: Path) -> None:
    """A small CNN's loss graph with gradient norms, large enough to read in the README."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(4 * 4 * 4, 10))
    images, labels = mg.randn(2, 8, 8, 1), mg.tensor(np.array([3, 7]))
    loss = F.cross_entropy(model(images), labels)
    with viz.record_grad_norms():
        loss.backward()
    print("wrote", viz.save(viz.make_dot(loss, dict(model.named_parameters()), show_grads=True), path))


def save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print("wrote", path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "figures", help="output folder")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    steps = worked_example()
    zero_insertion(steps, args.out / "zero_insertion.png")
    flipped_kernel(steps, args.out / "flipped_kernel.png")
    remainder(args.out / "remainder.png")
    im2col_figure(args.out / "im2col.png")
    maxpool_routing(args.out / "maxpool_routing.png")
    plot_filters(filter_example(load_example_image(100)), args.out / "table1_filters.png")
    print("wrote", args.out / "table1_filters.png")
    readme_graph(args.out / "graphs" / "small_cnn_grads.png")


if __name__ == "__main__":
    main()
