"""The seed's Question 1.3: classic image kernels (Table 1) applied with ``convolve``.

Each kernel filters every colour channel of a real photo on its own (padding 1, stride 1),
so the output has the input's shape and no colour shift. Writes outputs/filters/filters.png.

    python examples/image_filters.py [--size 100] [--out outputs/filters]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from minigrad.ops.conv import add_padding, convolve

TABLE_1 = {
    "Identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "Sharpening": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "Edge Detection 1": [[1, 0, -1], [0, 0, 0], [-1, 0, 1]],
    "Edge Detection 2": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "Edge Detection 3": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "Gaussian Blur": (np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16).tolist(),
}


def load_example_image(size: int = 100) -> np.ndarray:
    """scikit-learn's bundled china.jpg, centre-cropped square, resized: (1, size, size, 3) in [0, 1]."""
    from PIL import Image
    from sklearn.datasets import load_sample_image

    photo = load_sample_image("china.jpg")                      # (427, 640, 3) uint8
    h, w, _ = photo.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = Image.fromarray(photo[top:top + side, left:left + side]).resize((size, size), Image.BICUBIC)
    return (np.asarray(square, dtype=np.float64) / 255.0)[None]


def per_channel_kernels(kernel: list, channels: int = 3) -> np.ndarray:
    """(3, 3) kernel -> (3, 3, C, C) that filters each channel alone (zero across channels)."""
    kernels = np.zeros((3, 3, channels, channels))
    for c in range(channels):
        kernels[:, :, c, c] = kernel
    return kernels


def filter_example(image: np.ndarray) -> dict[str, np.ndarray]:
    """Every Table 1 kernel applied to ``image`` (1, H, W, 3) with padding 1, stride 1."""
    padded = add_padding(image, 1)
    return {name: convolve(per_channel_kernels(k, image.shape[3]), padded, 1) for name, k in TABLE_1.items()}


def plot_filters(results: dict[str, np.ndarray], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(9, 7.2), layout="constrained")   # titles never overlap
    for ax, (name, out) in zip(axes.flat, results.items()):
        ax.imshow(np.clip(out[0], 0, 1))                       # RGB as is: no colour shift
        ax.set_title(name)
        ax.axis("off")
    fig.suptitle("Table 1 kernels applied per channel with convolve (P=1, S=1)", fontsize=13)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100, help="side of the square image (default 100)")
    parser.add_argument("--out", type=Path, default=Path("outputs/filters"), help="output folder")
    args = parser.parse_args()
    results = filter_example(load_example_image(args.size))
    plot_filters(results, args.out / "filters.png")
    print(f"wrote {args.out / 'filters.png'}")


if __name__ == "__main__":
    main()
