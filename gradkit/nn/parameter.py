"""`Parameter`: a tensor that a Module registers as one of its weights."""
from .._format import tensor_repr
from .._tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and is found by ``Module.parameters()``.

    Assigning one as an attribute of a Module registers it::

        class Scale(gk.nn.Module):
            def __init__(self):
                super().__init__()
                self.factor = gk.nn.Parameter(gk.ones(1))

            def forward(self, x):
                return x * self.factor

    It shares memory with the tensor it was made from, like PyTorch's.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from .._factories import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): argument 'data' must be Tensor, not {type(data).__name__}")
        param = Tensor.__new__(cls)
        param._data = data._data
        param._version_box = [0]
        if requires_grad:
            param.requires_grad_(True)
        return param

    def __init__(self, data=None, requires_grad=True):
        pass   # everything happened in __new__

    def __repr__(self):
        return "Parameter containing:\n" + tensor_repr(self)
