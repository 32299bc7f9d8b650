"""Datasets and mini-batches, shaped like ``torch.utils.data``.

    from gradkit.utils.data import DataLoader, TensorDataset
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    for xb, yb in loader:                  # xb: (32, features), yb: (32,)
        ...
    len(loader)                            # batches per epoch

Shuffling and ``random_split`` draw from gradkit's generator, so ``gk.manual_seed``
makes them repeatable (the orders differ from PyTorch's, whose generator differs).
Everything runs in this process: ``num_workers`` is accepted and ignored.
"""
import collections.abc
import math
import numbers
import warnings

import numpy as np

from .. import _factories
from .._tensor import Tensor, _make
from ..ops import stack

__all__ = ["Dataset", "TensorDataset", "Subset", "DataLoader", "random_split", "default_collate"]


class Dataset:
    """A collection of samples: subclass it and define ``__getitem__(i)`` and ``__len__()``.

        class Squares(gk.utils.data.Dataset):
            def __len__(self):
                return 100
            def __getitem__(self, i):
                return gk.tensor([float(i)]), gk.tensor([float(i * i)])
    """

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")


class TensorDataset(Dataset):
    """Samples are slices of tensors along their first dimension: ``ds[i] == (X[i], y[i])``."""

    def __init__(self, *tensors):
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random Subsets of the given lengths (or fractions summing to 1).

        train, test = random_split(dataset, [0.8, 0.2])
    """
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _lengths_from_fractions(lengths, n)
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    rng = _factories.generator() if generator is None else generator
    order = rng.permutation(n).tolist()
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start:start + length]))
        start += length
    return subsets


def _lengths_from_fractions(fractions, n):
    """PyTorch's rounding: floor each share, then hand the remainder out one by one from the first split."""
    lengths = []
    for i, fraction in enumerate(fractions):
        if not 0 <= fraction <= 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        lengths.append(int(math.floor(n * fraction)))
    for i in range(n - sum(lengths)):
        lengths[i % len(lengths)] += 1
    for i, length in enumerate(lengths):
        if length == 0:
            warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                          UserWarning, stacklevel=3)
    return lengths


def default_collate(batch):
    """Merge a list of samples into one batch, as PyTorch's DataLoader does by default.

    Tensors (and numpy arrays) are stacked along a new first dimension; Python floats
    become a float64 tensor, ints an int64 tensor, bools a bool tensor; strings stay a
    list; dicts, tuples and lists are collated field by field (a tuple comes back as a list).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, np.ndarray) and elem.dtype.kind in "biuf":
        return stack([_make(np.asarray(b)) for b in batch], 0)
    if isinstance(elem, (bool, np.bool_)):
        return _make(np.array(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return _make(np.array(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return _make(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):          # a namedtuple keeps its type
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                    f"found {type(elem)}")


class DataLoader:
    """Iterate over a dataset in mini-batches, optionally reshuffled every epoch.

        loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, drop_last=False)
        for epoch in range(10):
            for xb, yb in loader:
                ...

    ``sampler`` (an iterable of indices) replaces the order; ``collate_fn`` replaces
    ``default_collate``; ``batch_size=None`` yields samples one by one, unbatched.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 generator=None, **ignored):
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
        elif batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                         or batch_size <= 0):
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.drop_last = drop_last
        self.num_workers = num_workers
        self.generator = generator
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if batch_size is not None or batch_sampler is not None else _no_collate)

    def _order(self):
        """The sample indices of one epoch: the sampler's, a fresh permutation, or 0..n-1."""
        if self.sampler is not None:
            return list(self.sampler)
        n = len(self.dataset)
        if self.shuffle:
            rng = _factories.generator() if self.generator is None else self.generator
            return rng.permutation(n).tolist()
        return range(n)

    def _batches(self):
        if self.batch_sampler is not None:
            yield from self.batch_sampler
            return
        order = list(self._order())
        if self.batch_size is None:
            yield from order
            return
        for start in range(0, len(order), self.batch_size):
            indices = order[start:start + self.batch_size]
            if self.drop_last and len(indices) < self.batch_size:
                return
            yield indices

    def __iter__(self):
        for indices in self._batches():
            if self.batch_size is None and self.batch_sampler is None:
                yield self.collate_fn(self.dataset[indices])
            else:
                yield self.collate_fn([self.dataset[i] for i in indices])

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


def _no_collate(sample):
    """batch_size=None: each sample is yielded as it is (numpy arrays become tensors, as in PyTorch)."""
    if isinstance(sample, np.ndarray) and sample.dtype.kind in "biuf":
        return _make(sample)
    return sample
