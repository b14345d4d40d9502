"""The casting dataset as torchvision ImageFolders, with errors that say what is wrong.

Layout (Kaggle's "casting product image data for quality inspection", folder casting_data):

    DIR/train/def_front/*.jpeg   DIR/train/ok_front/*.jpeg
    DIR/test/def_front/*.jpeg    DIR/test/ok_front/*.jpeg

The test split is the validation set (as in the seed). Labels: 1 = defective (the positive
class), 0 = ok.
"""
from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError
from torchvision import datasets, transforms

SPLITS = ("train", "test")
CLASSES = ("ok_front", "def_front")             # index = label: defect is positive
SOURCE = "https://www.kaggle.com/ravirajsinh45/real-life-industrial-dataset-of-casting-product"
EXPECTED_TREE = """\
    DIR/
    ├── train/
    │   ├── def_front/   (defective parts, JPEG)
    │   └── ok_front/    (good parts, JPEG)
    └── test/
        ├── def_front/
        └── ok_front/"""


class DatasetLayoutError(FileNotFoundError):
    """The data folder is missing or not laid out as the casting dataset."""


class UnreadableImageError(OSError):
    """An image file in the dataset cannot be decoded."""


def layout_problems(root: Path) -> list[str]:
    """What is missing under ``root``, one line each (empty when the layout is right)."""
    if not root.is_dir():
        return [f"{root} does not exist or is not a folder"]
    problems = []
    for split in SPLITS:
        for name in CLASSES:
            folder = root / split / name
            if not folder.is_dir():
                problems.append(f"missing folder {folder}")
            elif not any(p.suffix.lower() in {".jpg", ".jpeg", ".png"} for p in folder.iterdir()):
                problems.append(f"no .jpeg/.jpg/.png images in {folder}")
    return problems


def check_layout(root: str | Path) -> Path:
    """Return ``root`` as a Path, or raise DatasetLayoutError with the expected tree."""
    root = Path(root)
    problems = layout_problems(root)
    if not problems:
        return root
    hint = ""
    nested = [p for p in sorted(root.glob("*/")) if p.is_dir() and not layout_problems(p)] if root.is_dir() else []
    if nested:
        hint = f"\nThe dataset seems to be one level down: try --data {nested[0]}"
    raise DatasetLayoutError(
        f"casting data: {root} is not the casting dataset:\n  " + "\n  ".join(problems) +
        f"{hint}\nExpected this tree (DIR is what you pass as --data):\n{EXPECTED_TREE}\n"
        f"Download the folder 'casting_data' from {SOURCE} (about 100 MB), or make a "
        f"synthetic look-alike: python -m examples.casting.make_synthetic --out DIR")


def read_image(path: str) -> Image.Image:
    """ImageFolder's loader, with an error that names the file it could not read."""
    try:
        with open(path, "rb") as f:
            image = Image.open(f)
            image.load()
            return image.convert("L")
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise UnreadableImageError(f"casting data: cannot read image {path}: {error}") from error


class CastingFolder(datasets.ImageFolder):
    """ImageFolder with the two classes fixed: ok_front -> 0, def_front -> 1."""

    def find_classes(self, directory: str) -> tuple[list[str], dict[str, int]]:
        return list(CLASSES), {name: label for label, name in enumerate(CLASSES)}


def make_transform(image_size: int, augment: bool) -> transforms.Compose:
    """Grayscale (1, S, S) tensors in [0, 1]; with ``augment``, flips and small rotations
    (a cast part looks the same from any angle, so these keep the label)."""
    steps = [transforms.Grayscale(1), transforms.Resize((image_size, image_size), antialias=True)]
    if augment:
        steps += [transforms.RandomHorizontalFlip(), transforms.RandomVerticalFlip(),
                  transforms.RandomRotation(10, fill=0)]
    return transforms.Compose(steps + [transforms.ToTensor()])


def load_datasets(root: str | Path, image_size: int, augment: bool = False) -> tuple[CastingFolder, CastingFolder]:
    """(train, validation) datasets: the train split (optionally augmented) and the test split."""
    root = check_layout(root)
    train = CastingFolder(str(root / "train"), transform=make_transform(image_size, augment),
                          loader=read_image)
    val = CastingFolder(str(root / "test"), transform=make_transform(image_size, False),
                        loader=read_image)
    return train, val


def class_counts(dataset: CastingFolder) -> dict[str, int]:
    counts = torch.bincount(torch.tensor(dataset.targets), minlength=len(CLASSES)).tolist()
    return dict(zip(CLASSES, counts))
