"""Casting-defect classification with PyTorch (seed 000, Part 3): data, models, training.

    python -m examples.casting.make_synthetic --out data/synthetic_casting   # no real data?
    python -m examples.casting.train --data data/casting_data --model improved
"""
