"""`Module`: the base class of layers and models, shaped like PyTorch's ``nn.Module``.

A Module keeps its Parameters and sub-Modules in two ordered dicts, filled by
plain attribute assignment (``self.fc = Linear(2, 3)``). Everything else —
``parameters()``, ``state_dict()``, ``train()``, ``repr`` — walks those dicts.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from .. import _device, _dtype
from .._tensor import Tensor
from .. import _events
from ..autograd.grad_mode import no_grad
from .parameter import Parameter

_REGISTRIES = ("_parameters", "_buffers", "_modules")
class _IncompatibleKeys(namedtuple("_IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict(strict=False) could not match; shown as PyTorch shows it when all matched."""

    __slots__ = ()

    def __repr__(self):
        return "<All keys matched successfully>" if not self.missing_keys and not self.unexpected_keys \
            else super().__repr__()


IncompatibleKeys = _IncompatibleKeys      # (PyTorch's class name shows in its repr)


class Module:
    """Base class for all layers and models: subclass it, set layers in ``__init__``, write ``forward``.

        class TwoLayer(gk.nn.Module):
            def __init__(self):
                super().__init__()
                self.hidden = gk.nn.Linear(2, 16)
                self.out = gk.nn.Linear(16, 1)

            def forward(self, x):
                return self.out(self.hidden(x).relu())

        model = TwoLayer()
        model(gk.randn(8, 2)).shape        # gradkit.Size([8, 1])
        model.hidden.requires_grad_(False) # freeze the first layer
    """

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._store("_parameters", name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_type_name(value)}' as parameter '{name}' "
                                "(gradkit.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            modules = self.__dict__.get("_modules")
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._store("_modules", name, value)
        elif name in self.__dict__.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_type_name(value)}' as buffer '{name}' "
                                "(gradkit.Tensor or None expected)")
            self._buffers[name] = value
        else:
            modules = self.__dict__.get("_modules")
            if modules is not None and name in modules:
                if value is not None:
                    raise TypeError(f"cannot assign '{_type_name(value)}' as child module '{name}' "
                                    "(gradkit.nn.Module or None expected)")
                modules[name] = None
            else:
                object.__setattr__(self, name, value)

    def _store(self, registry, name, value):
        """Put ``value`` in one registry and drop ``name`` from everywhere else, so one attribute lives in
        one place. A replaced entry keeps its position (``model[1] = ...`` keeps the layer order)."""
        self.__dict__.pop(name, None)
        for other in _REGISTRIES:
            if other != registry:
                self.__dict__[other].pop(name, None)
        self.__dict__["_non_persistent_buffers_set"].discard(name)
        self.__dict__[registry][name] = value

    def __getattr__(self, name):
        # Only called when normal lookup fails: look in the registries.
        for registry in _REGISTRIES:
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in _REGISTRIES:
            if name in self.__dict__[registry]:
                del self.__dict__[registry][name]
                return
        object.__delattr__(self, name)

    def _check_new_name(self, kind, name, registry):
        """PyTorch's checks on a name given to register_parameter / register_buffer / add_module."""
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain ".", got: {name}' if kind == "module"
                           else f'{kind} name can\'t contain "."')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in self.__dict__[registry]:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name, param):
        self._check_new_name("parameter", name, "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_type_name(param)}' object to parameter '{name}' "
                            "(gradkit.nn.Parameter or None required)")
        self._store("_parameters", name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Keep a tensor that is state but not a parameter (e.g. a loss's class weights): it is saved in
        ``state_dict()`` (unless ``persistent=False``) and converted by ``.double()``, but not trained."""
        self._check_new_name("buffer", name, "_buffers")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_type_name(tensor)}' object to buffer '{name}' "
                            "(gradkit Tensor or None required)")
        self._store("_buffers", name, tensor)
        if not persistent:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_type_name(module)} is not a Module subclass")
        self._check_new_name("module", name, "_modules")
        self._store("_modules", name, module)

    # --------------------------------------------------------------- traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(name, module) for this module and every module inside it, depth first; a module used twice
        is listed once (unless ``remove_duplicate=False``), as in PyTorch."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, child in self.named_children():
            yield child

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """("layer.weight", Parameter) pairs; a parameter shared by two layers is listed once
        (unless ``remove_duplicate=False``)."""
        seen = set()
        owners = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for owner_name, owner in owners:
            for name, param in owner._parameters.items():
                if param is None or (remove_duplicate and id(param) in seen):
                    continue
                seen.add(id(param))
                yield owner_name + ("." if owner_name else "") + name, param

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True):
        """("name", tensor) for every buffer, like ``named_parameters``."""
        owners = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for owner_name, owner in owners:
            for name, buffer in owner._buffers.items():
                if buffer is not None:
                    yield owner_name + ("." if owner_name else "") + name, buffer

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def _named_state(self):
        """What state_dict holds, in PyTorch's order: each module's parameters, then its saved buffers."""
        for owner_name, owner in self.named_modules(remove_duplicate=False):
            prefix = owner_name + ("." if owner_name else "")
            for name, param in owner._parameters.items():
                if param is not None:
                    yield prefix + name, param
            for name, buffer in owner._buffers.items():
                if buffer is not None and name not in owner._non_persistent_buffers_set:
                    yield prefix + name, buffer

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module, then on this one (e.g. to re-initialise weights)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes
    def train(self, mode=True):
        """Training mode (the default): Dropout drops. ``train(False)`` is ``eval()``."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        """Evaluation mode: Dropout passes inputs through unchanged."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze (True) every parameter of this module."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's ``.grad`` (to None by default, as in PyTorch 2)."""
        clear_grads(self.parameters(), set_to_none)

    # ------------------------------------------------------------------ dtype
    def to(self, *args, **kwargs):
        """Convert every parameter (and its grad) and float buffer in place: ``model.to(gk.float64)``.

        Devices are accepted as in PyTorch (``model.to("cpu")``, ``model.to(device, dtype)``,
        ``model.to(tensor)``); gradkit computes on the CPU only, so a device is checked by
        ``Tensor.to``, which raises PyTorch's error for any other device.
        """
        dtype = kwargs.pop("dtype", None)
        devices = [kwargs.pop("device")] if "device" in kwargs else []
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, _dtype.dtype) or arg in (float, int, bool):
                dtype = arg
            else:
                devices.append(arg)
        for device in devices:
            _device.check_available(device)
        if dtype is None:
            return self
        target = _dtype.to_numpy_dtype(dtype)
        if target.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired "
                            f"dtype={_dtype.from_numpy_dtype(target)!r}")
        for param in self.parameters():
            if param._data.dtype != target:
                param.data = Tensor(param._data.astype(target))
                if param._grad is not None:
                    param.grad = Tensor(param._grad._data.astype(target))
        for module in self.modules():
            for name, buffer in module._buffers.items():
                if buffer is not None and buffer.is_floating_point() and buffer._data.dtype != target:
                    module._buffers[name] = Tensor(buffer._data.astype(target))
        return self

    def cpu(self):
        return self

    def double(self):
        return self.to(_dtype.float64)

    def float(self):
        return self.to(_dtype.float32)

    # ------------------------------------------------------------- state dict
    def state_dict(self):
        """name -> detached tensor sharing memory with each parameter (save it to copy weights)."""
        return OrderedDict((name, tensor.detach()) for name, tensor in self._named_state())

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from ``state_dict`` into this module's parameters (shapes must match)."""
        own = dict(self._named_state())
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        errors = []
        for name, param in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            array = value._data if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != param._data.shape:
                errors.append(f"size mismatch for {name}: copying a param with shape {_size(array.shape)} from "
                              f"checkpoint, the shape in current model is {_size(param._data.shape)}.")
        if strict:
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        with no_grad():
            for name, param in own.items():
                if name in state_dict:
                    value = state_dict[name]
                    np.copyto(param._data, value._data if isinstance(value, Tensor) else value)
                    param._bump_version()
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------- repr
    def extra_repr(self):
        """The text inside this module's parentheses, e.g. ``in_features=2, out_features=3``."""
        return ""

    def __repr__(self):
        children = [f"({label}): " + _indent(text) for label, text in self._child_lines()]
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = ([extra] if extra else []) + children
        return type(self).__name__ + "(\n" + "".join(f"  {line}\n" for line in lines) + ")"

    def _child_lines(self):
        """(label, text) for each child the repr lists; ModuleList groups repeated children."""
        return [(name, repr(child)) for name, child in self._modules.items()]

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._modules) | set(self._buffers))


def clear_grads(params, set_to_none=True):
    """Set each ``.grad`` to None, or fill it with zeros (what zero_grad does for modules and optimizers).

    Live displays hear about it once, with the list of cleared parameters.
    """
    cleared = []
    for param in params:
        if param._grad is None:
            continue
        if set_to_none:
            param._grad = None
        else:
            param._grad._data.fill(0)
            param._grad._version_box[0] += 1
        param._note_grad_set("zero_grad()" if set_to_none else "zero_grad(set_to_none=False)")
        cleared.append(param)
    if cleared and _events._subscribers:
        _events.emit("grad", cleared)


def _indent(text):
    """Indent every line but the first by two spaces (nested modules in a repr)."""
    return text.replace("\n", "\n  ")


def _type_name(value):
    if isinstance(value, Tensor):   # PyTorch's legacy type names, e.g. torch.FloatTensor
        kind = {"float32": "Float", "float64": "Double", "int64": "Long", "bool": "Bool"}.get(value.dtype.name, "")
        return f"gradkit.{kind}Tensor"
    return f"{type(value).__module__}.{type(value).__qualname__}".replace("builtins.", "")


def _size(shape):
    return f"gradkit.Size({list(shape)})"
