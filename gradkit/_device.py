"""Devices, as in PyTorch, for a library that has only one: the CPU.

``gk.device("cpu")``, ``tensor.device``, ``device=`` on factories and ``.to(device)`` let
PyTorch code run unchanged. Any other device is a device this machine does not have, and
asking for one raises the error a CPU-only PyTorch raises.
"""

# PyTorch's device types, in the order its error message lists them
_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
          "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
_HINT = "\ngradkit hint: gradkit computes on the CPU only; use device='cpu' or leave device out."


class device:  # noqa: N801 - PyTorch's name
    """Where a tensor lives: ``device(type='cpu')``. Compare with ``==``; ``str(d)`` gives ``'cpu'``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002 - PyTorch's argument name
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            raise RuntimeError("Cannot access accelerator device when none is available." + _HINT)
        elif isinstance(type, str):
            name, _, number = type.partition(":")
            if name not in _TYPES:
                raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of device string: "
                                   f"{type}")
            if number:
                if not number.isdigit():
                    raise RuntimeError(f"Invalid device string: '{type}'")
                index = int(number)
            type = name
        else:
            raise TypeError(f"device() received an invalid combination of arguments - got ({_type_name(type)})")
        self.type = type
        self.index = index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))


def _type_name(value):
    return type(value).__name__


CPU = device("cpu")
_default = CPU


def check_available(where):
    """The device ``where`` names, if this machine has it (the CPU); else CPU-only PyTorch's error."""
    if where is None:
        where = _default
    where = where if isinstance(where, device) else device(where)
    if where.type == "cpu":
        return CPU
    if where.type == "cuda":
        raise AssertionError("Torch not compiled with CUDA enabled" + _HINT)
    if where.type == "meta":       # PyTorch has meta tensors (shapes without data); gradkit does not
        raise RuntimeError("gradkit has no meta tensors: every gradkit tensor holds its numbers on the CPU.")
    raise RuntimeError(f"PyTorch is not linked with support for {where.type} devices" + _HINT)


def check_legacy_constructor(where):
    """``gk.Tensor(2, 3, device=...)``: PyTorch's legacy constructor takes the CPU only."""
    if where is not None and device(where).type != "cpu":
        raise RuntimeError(f"legacy constructor expects device type: cpu but device type: {device(where).type} "
                           "was passed" + _HINT)


def set_default_device(where):
    """Where factories put new tensors (PyTorch lets you name any device here; using one then fails)."""
    global _default
    _default = CPU if where is None else (where if isinstance(where, device) else device(where))


def get_default_device():
    return _default


def is_device_like(value):
    return isinstance(value, (device, str)) or (isinstance(value, int) and not isinstance(value, bool))
