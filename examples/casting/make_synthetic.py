"""Write a synthetic look-alike of the casting dataset (it is NOT the real data).

Grayscale top views of round cast impellers: a rim, curved vanes, a hub and its bore, with
lighting gradients and surface texture that vary from part to part. Defective parts get one
or two of: blowholes, a crack, burrs on the rim, a chipped rim. Same tree as the real data:

    OUT/{train,test}/{def_front,ok_front}/cast_{def,ok}_0_<n>.jpeg

    python -m examples.casting.make_synthetic [--out data/synthetic_casting]
        [--train-per-class 300] [--test-per-class 100] [--size 300] [--seed 0]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy.ndimage import gaussian_filter
from tqdm import tqdm

DEFECTS = ("blowholes", "crack", "burrs", "chipped_rim")


def draw_part(rng: np.random.Generator, size: int) -> tuple[np.ndarray, dict]:
    """One good part: (size, size) float brightness in [0, 255] and its geometry."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    cx, cy = size / 2 + rng.normal(0, 0.02 * size, 2)
    R = size * rng.uniform(0.38, 0.44)
    r = np.hypot(xx - cx, yy - cy)
    theta = np.arctan2(yy - cy, xx - cx)
    light = rng.uniform(0, 2 * np.pi)
    shade = np.cos(theta - light) * (r / R)                      # lit from one side

    image = rng.uniform(35, 65) + 10 * ((xx * np.cos(light) + yy * np.sin(light)) / size)
    metal = rng.uniform(125, 165)
    part = r < R
    image = np.where(part, metal + 18 * shade, image)
    image += np.where((r > 0.9 * R) & part, rng.uniform(15, 30), 0)        # the rim
    vanes, twist = int(rng.integers(6, 11)), rng.uniform(0.4, 1.2)
    phase = theta * vanes / (2 * np.pi) - twist * r / R + rng.uniform(0, 1)
    ridge = np.exp(-((phase - np.round(phase)) / 0.08) ** 2)               # curved vanes
    image += np.where((r > 0.32 * R) & (r < 0.88 * R), 28 * ridge, 0)
    image += np.where(r < 0.3 * R, rng.uniform(10, 25), 0)                 # the hub
    image = np.where(r < rng.uniform(0.1, 0.14) * R, rng.uniform(20, 40), image)   # the bore
    texture = gaussian_filter(rng.normal(0, 30, (size, size)), 2 * size / 300)
    image += np.where(part, texture, 0.3 * texture)
    return image, dict(cx=cx, cy=cy, R=R, r=r, theta=theta, xx=xx, yy=yy)


def add_defect(rng: np.random.Generator, image: np.ndarray, g: dict, kind: str) -> np.ndarray:
    size, R = image.shape[0], g["R"]

    def on_surface() -> tuple[float, float]:
        rho, phi = R * rng.uniform(0.35, 0.85), rng.uniform(0, 2 * np.pi)
        return g["cx"] + rho * np.cos(phi), g["cy"] + rho * np.sin(phi)

    if kind == "blowholes":
        for _ in range(rng.integers(1, 5)):
            x0, y0 = on_surface()
            a, b = size * rng.uniform(0.018, 0.035, 2)
            d = ((g["xx"] - x0) / a) ** 2 + ((g["yy"] - y0) / b) ** 2
            image = image - rng.uniform(60, 95) * np.clip(1.5 - d, 0, 1)
    elif kind == "crack":
        mask = Image.new("L", (size, size))
        x, y = on_surface()
        heading, points = rng.uniform(0, 2 * np.pi), [(x, y)]
        for _ in range(rng.integers(5, 10)):
            heading += rng.normal(0, 0.5)
            step = size * rng.uniform(0.02, 0.045)
            x, y = x + step * np.cos(heading), y + step * np.sin(heading)
            points.append((x, y))
        ImageDraw.Draw(mask).line(points, fill=255, width=max(2, size // 80))
        image = image - rng.uniform(60, 90) * np.asarray(mask, dtype=np.float32) / 255
    elif kind == "burrs":
        for _ in range(rng.integers(1, 4)):
            phi = rng.uniform(0, 2 * np.pi)
            x0, y0 = g["cx"] + R * np.cos(phi), g["cy"] + R * np.sin(phi)
            rad = size * rng.uniform(0.02, 0.04)
            d = np.hypot(g["xx"] - x0, g["yy"] - y0) / rad
            image = np.where(d < 1, np.maximum(image, rng.uniform(170, 210) - 30 * d), image)
    elif kind == "chipped_rim":
        phi, width = rng.uniform(-np.pi, np.pi), rng.uniform(0.2, 0.45)
        depth = R * rng.uniform(0.07, 0.14)
        near = np.abs(np.angle(np.exp(1j * (g["theta"] - phi)))) < width / 2
        chip = near & (g["r"] > R - depth) & (g["r"] < R)
        image = np.where(chip, rng.uniform(35, 65), image)
    return image


def make_image(rng: np.random.Generator, size: int, defective: bool) -> Image.Image:
    image, geometry = draw_part(rng, size)
    if defective:
        for kind in rng.choice(DEFECTS, size=rng.integers(1, 3), replace=False):
            image = add_defect(rng, image, geometry, kind)
    image = gaussian_filter(image, 0.6) + rng.normal(0, 3, image.shape)   # optics, sensor noise
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8), "L")


def write_dataset(out: Path, train_per_class: int, test_per_class: int, size: int = 300,
                  seed: int = 0, progress: bool = True) -> Path:
    """Write the tree under ``out``; the same seed gives the same images."""
    rng = np.random.default_rng(seed)
    jobs = [(split, name, n) for split, count in (("train", train_per_class), ("test", test_per_class))
            for name in ("def_front", "ok_front") for n in range(count)]
    for split, name, n in tqdm(jobs, desc="synthetic casting", disable=not progress):
        folder = out / split / name
        folder.mkdir(parents=True, exist_ok=True)
        image = make_image(rng, size, defective=name == "def_front")
        image.save(folder / f"cast_{name[:-6]}_0_{n}.jpeg", quality=90)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data/synthetic_casting"), help="output folder")
    parser.add_argument("--train-per-class", type=int, default=300, help="training images per class")
    parser.add_argument("--test-per-class", type=int, default=100, help="test images per class")
    parser.add_argument("--size", type=int, default=300, help="image side in pixels (the real data: 300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if min(args.train_per_class, args.test_per_class) < 1 or args.size < 32:
        parser.error("need at least 1 image per class and split, and --size >= 32")
    write_dataset(args.out, args.train_per_class, args.test_per_class, args.size, args.seed,
                  progress=not args.quiet)
    print(f"wrote a SYNTHETIC casting look-alike to {args.out}/ "
          f"({2 * (args.train_per_class + args.test_per_class)} images)")


if __name__ == "__main__":
    main()
