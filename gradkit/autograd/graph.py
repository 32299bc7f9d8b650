"""gradkit.autograd.graph: hooks on what the graph saves, as in ``torch.autograd.graph``.

    def pack(tensor):            # called when an op saves a tensor for backward
        print("saving", tuple(tensor.shape))
        return tensor
    def unpack(packed):          # called when backward needs it again
        return packed

    with gk.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = (x * w).sum()        # saving (3,) / saving (3,)
    y.backward()

What gets packed is exactly what PyTorch saves (its derivatives.yaml), so the
number of ``pack`` calls is the number PyTorch makes for the same program.
"""
from .grad_mode import _hooks_in_use, _state

__all__ = ["saved_tensors_hooks"]


class saved_tensors_hooks:
    """Context manager: ``pack(tensor)`` runs for each tensor saved inside it, ``unpack(packed)``
    when backward (or ``grad_fn._saved_*``) reads it back. Thread-local, innermost wins."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        _state.saved_hooks = _state.saved_hooks + ((self.pack_hook, self.unpack_hook),)
        _hooks_in_use[0] += 1
        return self

    def __exit__(self, *exc):
        _state.saved_hooks = _state.saved_hooks[:-1]
        _hooks_in_use[0] -= 1
        return False
