"""gk.utils.data: datasets, default collation, DataLoader batching and shuffling, random_split."""
from collections import namedtuple

import numpy as np
import pytest

import gradkit as gk
from gradkit.utils.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split


def make_dataset(lib):
    return lib.utils.data.TensorDataset(lib.arange(10.0).reshape(5, 2), lib.arange(5))


def test_tensor_dataset_indexes_every_tensor():
    ds = make_dataset(gk)
    x, y = ds[1]
    assert len(ds) == 5 and x.tolist() == [2.0, 3.0] and y.item() == 1
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(gk.ones(3), gk.ones(4))


def test_loader_batches_in_order_and_len():
    loader = DataLoader(make_dataset(gk), batch_size=2)
    batches = list(loader)
    assert len(loader) == 3 and [b[1].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert batches[0][0].shape == (2, 2) and batches[0][1].dtype == gk.int64
    dropped = DataLoader(make_dataset(gk), batch_size=2, drop_last=True)
    assert len(dropped) == 2 and [b[1].tolist() for b in dropped] == [[0, 1], [2, 3]]


def test_loader_matches_pytorch_without_shuffle():
    torch = pytest.importorskip("torch")
    import torch.utils.data  # noqa: F401 - makes torch.utils.data an attribute

    def batches(lib, **settings):
        return [[t.tolist() for t in batch] for batch in lib.utils.data.DataLoader(make_dataset(lib), **settings)]
    for settings in (dict(), dict(batch_size=2), dict(batch_size=3, drop_last=True), dict(batch_size=None)):
        assert batches(gk, **settings) == batches(torch, **settings)
        assert len(gk.utils.data.DataLoader(make_dataset(gk), **settings)) == len(
            torch.utils.data.DataLoader(make_dataset(torch), **settings))


def test_shuffle_is_a_permutation_each_epoch_and_follows_manual_seed():
    loader = DataLoader(TensorDataset(gk.arange(20)), batch_size=6, shuffle=True)

    def epoch():
        return np.concatenate([b[0].numpy() for b in loader]).tolist()
    gk.manual_seed(3)
    first, second = epoch(), epoch()
    assert sorted(first) == list(range(20)) and first != list(range(20)) and first != second
    gk.manual_seed(3)
    assert epoch() == first


def test_default_collate_like_pytorch():
    Point = namedtuple("Point", "x y")
    batch = default_collate([{"x": 0.5, "n": 1, "flag": True, "name": "a", "t": (gk.ones(2), [1, 2])},
                             {"x": 1.5, "n": 2, "flag": False, "name": "b", "t": (gk.zeros(2), [3, 4])}])
    assert batch["x"].dtype == gk.float64 and batch["x"].tolist() == [0.5, 1.5]
    assert batch["n"].dtype == gk.int64 and batch["flag"].dtype == gk.bool and batch["name"] == ["a", "b"]
    stacked, pairs = batch["t"]
    assert stacked.tolist() == [[1.0, 1.0], [0.0, 0.0]] and [p.tolist() for p in pairs] == [[1, 3], [2, 4]]
    points = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(points, Point) and points.x.tolist() == [1, 3]
    assert default_collate([np.ones(2), np.zeros(2)]).dtype == gk.float64
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got \[2\] at entry 0"):
        default_collate([gk.ones(2), gk.ones(3)])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [1]])


def test_collate_keeps_the_graph_of_tensors_that_require_grad():
    w = gk.ones(2, requires_grad=True)
    batch = default_collate([w * 2, w * 3])
    batch.sum().backward()
    assert batch.grad_fn.name() == "StackBackward0" and w.grad.tolist() == [5.0, 5.0]


def test_custom_dataset_sampler_and_collate_fn():
    class Squares(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return gk.tensor([float(i)]), gk.tensor([float(i * i)])
    loader = DataLoader(Squares(), batch_size=3, sampler=[3, 2, 1, 0])
    x, y = next(iter(loader))
    assert x.tolist() == [[3.0], [2.0], [1.0]] and y.tolist() == [[9.0], [4.0], [1.0]]
    lists = DataLoader(Squares(), batch_size=2, collate_fn=lambda samples: samples)
    assert len(next(iter(lists))) == 2
    with pytest.raises(NotImplementedError, match="Subclasses of Dataset should implement __getitem__."):
        Dataset()[0]


def test_loader_bad_settings_are_pytorchs_errors():
    ds = make_dataset(gk)
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, shuffle=True, sampler=[0, 1])


def test_random_split_lengths_and_fractions():
    gk.manual_seed(0)
    train, test = random_split(make_dataset(gk), [3, 2])
    assert isinstance(train, Subset) and len(train) == 3 and len(test) == 2
    assert sorted(train.indices + test.indices) == [0, 1, 2, 3, 4]
    assert train[0][1].item() == train.indices[0]
    gk.manual_seed(0)
    assert random_split(make_dataset(gk), [3, 2])[0].indices == train.indices
    parts = random_split(range(10), [0.7, 0.3])
    assert [len(p) for p in parts] == [7, 3]
    assert [len(p) for p in random_split(range(5), [0.5, 0.5])] == [3, 2]      # remainder to the first
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset!"):
        random_split(range(5), [3, 3])


def test_random_split_fraction_rounding_matches_pytorch():
    torch = pytest.importorskip("torch")
    import torch.utils.data  # noqa: F401
    for n, fractions in ((5, [0.5, 0.5]), (10, [0.34, 0.33, 0.33]), (7, [0.1, 0.9])):
        theirs = [len(p) for p in torch.utils.data.random_split(range(n), fractions)]
        assert [len(p) for p in random_split(range(n), fractions)] == theirs


def test_gk_utils_loads_lazily():
    import subprocess
    import sys
    code = ("import sys, gradkit as gk; assert 'gradkit.utils' not in sys.modules; "
            "gk.utils.data.DataLoader; assert 'gradkit.utils.data' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
