"""Containers: Sequential (a pipeline), ModuleList (a list) and ModuleDict (a dict) of modules.

Each registers its members as sub-modules, so their parameters are found by
``parameters()``, named "0.weight", "encoder.bias", ... as in PyTorch.
"""
import operator
from collections import OrderedDict

from .module import Module


def _check_index(index, size):
    """An int index into ``size`` members, made non-negative; PyTorch's IndexError when out of range."""
    index = operator.index(index)
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of range")
    return index % size


class _NumberedModules(Module):
    """What Sequential and ModuleList share: members named "0", "1", ... and list-like access."""

    def _key(self, index):
        return list(self._modules)[_check_index(index, len(self._modules))]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __setitem__(self, index, module):
        self.add_module(self._key(index), module)

    def __delitem__(self, index):
        keys = list(self._modules)
        doomed = keys[index] if isinstance(index, slice) else [self._key(index)]
        for key in doomed:
            del self._modules[key]
        self._renumber(list(self._modules.values()))

    def _renumber(self, modules):
        """Keep the names "0", "1", ... in order after members were removed or inserted."""
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module

    def append(self, module):
        """Add ``module`` at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """Put ``module`` before position ``index``."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        size = len(self._modules)
        if not -size <= index <= size:
            raise IndexError(f"Index out of range: {index}")
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def pop(self, index=-1):
        """Remove the member at ``index`` and return it."""
        module = self[index]
        del self[index]
        return module


class Sequential(_NumberedModules):
    """Modules applied one after the other; index it like a list.

        model = gk.nn.Sequential(gk.nn.Linear(2, 16), gk.nn.ReLU(), gk.nn.Linear(16, 1))
        model[0]                      # the first Linear; model[-1] the last
        model[:2]                     # a Sequential of the first two
        model[1] = gk.nn.Tanh()       # swap a layer
        model(gk.randn(4, 2)).shape   # gradkit.Size([4, 1])

    ``Sequential(OrderedDict([("hidden", ...), ("out", ...)]))`` names the layers.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), module)

    def forward(self, input):  # noqa: A002
        for module in self._modules.values():
            input = module(input)  # noqa: A001
        return input

    def __getitem__(self, index):
        if isinstance(index, slice):     # keeps the members' names, as PyTorch's does
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return self._modules[self._key(index)]

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError("add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        return Sequential(*self, *other)


class ModuleList(_NumberedModules):
    """A list of modules whose parameters the owner registers; it has no forward of its own.

        self.layers = gk.nn.ModuleList([gk.nn.Linear(4, 4) for _ in range(3)])
        for layer in self.layers:
            x = layer(x).relu()
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index):
        if isinstance(index, slice):     # renumbered from 0, as PyTorch's
            return ModuleList(list(self._modules.values())[index])
        return self._modules[self._key(index)]

    def __iadd__(self, modules):
        return self.extend(modules)

    def _child_lines(self):
        """PyTorch's compact repr: a run of identical members shows once, e.g. ``(0-2): 3 x Linear(...)``."""
        lines = []
        runs = []     # [first index, last index, repr]
        for i, module in enumerate(self._modules.values()):
            text = repr(module)
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        for first, last, text in runs:
            if first == last:
                lines.append((str(first), text))
            else:
                lines.append((f"{first}-{last}", f"{last - first + 1} x {text}"))
        return lines


class ModuleDict(Module):
    """A dict of modules (insertion ordered) whose parameters the owner registers.

        self.heads = gk.nn.ModuleDict({"age": gk.nn.Linear(8, 1), "class": gk.nn.Linear(8, 3)})
        out = self.heads["class"](features)
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def update(self, modules):
        """Add (or replace) members from a dict or from (name, module) pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module
