"""tensor.storage(): the flat memory a tensor and its views share (PyTorch's TypedStorage, which
Karpathy's makemore lecture prints to show that view() copies nothing)."""
import warnings

_DEPRECATION = ("TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be the only "
                "storage class. This should only matter to you if you are using storages directly.  To access "
                "UntypedStorage directly, use tensor.untyped_storage() instead of tensor.storage()")
_warned = [False]


class TypedStorage:
    """The elements of a tensor's memory, in memory order, whatever view of it the tensor is."""

    def __init__(self, array, dtype):
        self._array, self.dtype = array, dtype

    def size(self):
        return self._array.size

    __len__ = size

    def __getitem__(self, i):
        return self._array[i].item()

    def tolist(self):
        return self._array.tolist()

    def __repr__(self):
        elements = " " + "\n ".join(str(value) for value in self.tolist())
        return f"{elements}\n[gradkit.storage.TypedStorage(dtype={self.dtype}, device=cpu) of size {len(self)}]"


def storage_of(tensor):
    if not _warned[0]:          # (once per process, as PyTorch)
        _warned[0] = True
        warnings.warn(_DEPRECATION, UserWarning, stacklevel=3)
    root = tensor._view_of[0] if tensor._view_of is not None else tensor
    return TypedStorage(root._data.ravel(order="K"), tensor.dtype)
