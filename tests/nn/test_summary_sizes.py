"""nn.summary takes the input size with or without the batch dimension."""
import pytest

from minigrad import nn


def cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(256, 3))


def mlp():
    return nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))


@pytest.mark.parametrize("make,without,with_batch", [(cnn, (8, 8, 1), (16, 8, 8, 1)), (mlp, (5,), (7, 5))])
def test_summary_tells_the_batch_dimension_apart(make, without, with_batch):
    plain, batched = nn.summary(make(), without), nn.summary(make(), with_batch)
    assert "(None, " in plain and f"({with_batch[0]}, " in batched
    rows = [" ".join(line.split()) for line in plain.replace("(None,", "(B,").splitlines()[4:]]
    rows_batched = [" ".join(line.split()) for line in batched.replace(f"({with_batch[0]},", "(B,").splitlines()[4:]]
    assert [r for r in rows if r.strip("=_")] == [r for r in rows_batched if r.strip("=_")]
    assert "(None, " in nn.summary(make(), without, batch_dim=0)


def test_summary_bad_batch_dim_is_a_clear_error():
    with pytest.raises(ValueError, match="summary: batch_dim must be None or 0"):
        nn.summary(mlp(), (5,), batch_dim=1)
