"""`Optimizer`: what SGD and Adam share — parameter groups, per-parameter state, zero_grad."""
from collections import defaultdict

from .._factories import zeros_like
from .._tensor import Tensor
from .. import _events
from ..autograd.grad_mode import enable_grad, no_grad
from ..nn.module import clear_grads


def _type_name(value):
    cls = type(value)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


class Optimizer:
    """Base class: holds ``param_groups`` (lists of parameters with their settings) and ``state``.

    Subclasses implement ``step()``. Parameters are given as an iterable of tensors
    (``model.parameters()``) or of dicts, one per group with its own settings::

        gk.optim.SGD([{"params": model[0].parameters(), "lr": 0.01},
                      {"params": model[2].parameters()}], lr=0.1)
    """

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {_tensor_type(params)}")
        self.defaults = dict(defaults)
        self._step_called = False  # lr schedulers warn when they are stepped before the optimizer
        self.state = defaultdict(dict)  # parameter -> its running buffers (tensors hash by identity)
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group of parameters with its own settings (missing settings take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {_type_name(param_group)}")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {_type_name(param)}")
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        known = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in known for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group = dict(self.defaults)
        group.update(param_group)
        group["params"] = params
        self.param_groups.append(group)

    def _params_to_update(self, group):
        """The group's parameters that have a gradient and are not frozen (requires_grad=False)."""
        return [p for p in group["params"] if p._grad is not None and p._requires_grad]

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's ``.grad``: to None (the default, as in PyTorch 2) or to zeros."""
        clear_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss if one is given.

        ``closure`` recomputes the loss and calls backward; it runs with grad mode on.
        """
        self._step_called = True
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        updated = []
        with no_grad():     # updates are not part of any graph
            for group in self.param_groups:
                for param in self._params_to_update(group):
                    self._update(param, group)
                    param._version_box[0] += 1      # an in-place change: saved-tensor checks see it
                    updated.append(param)
        if updated and _events._subscribers:
            _events.emit("data", updated)           # live displays hear about the step once
        return loss

    def _update(self, param, group):
        """Change ``param`` in place from its ``.grad``: what each optimizer defines."""
        raise NotImplementedError

    def _state_with_buffers(self, param, names):
        """``self.state[param]``, made on the first step: ``step`` 0 and a zero tensor per buffer name."""
        state = self.state[param]
        if not state:
            state["step"] = 0
            for name in names:
                state[name] = zeros_like(param)
        return state

    @staticmethod
    def _grad_with_decay(param, group):
        """The gradient an update starts from (a numpy array): negated with ``maximize``, plus
        ``weight_decay·p`` (L2 decay, coupled into the gradient) when the group has one."""
        grad = param._grad._data
        if group.get("maximize"):
            grad = -grad                                          # grad = -grad
        if group.get("weight_decay", 0) != 0 and not group.get("decoupled_weight_decay"):
            grad = grad + group["weight_decay"] * param._data     # grad = grad.add(p, alpha=wd)
        return grad

    def state_dict(self):
        """Settings and buffers, with parameters named by their position (as in PyTorch)."""
        index = {}
        groups = []
        for group in self.param_groups:
            positions = []
            for param in group["params"]:
                index.setdefault(id(param), len(index))
                positions.append(index[id(param)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": positions})
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict()`` returned, onto the same parameters in the same order."""
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        params = [p for group in self.param_groups for p in group["params"]]
        for group, saved_group in zip(self.param_groups, saved):
            if len(group["params"]) != len(saved_group["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the size "
                                 "of optimizer's group")
            group.update({k: v for k, v in saved_group.items() if k != "params"})
        self.state = defaultdict(dict)
        for i, saved_state in state_dict["state"].items():
            self.state[params[i]] = {k: (v.clone() if isinstance(v, Tensor) else v) for k, v in saved_state.items()}

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        lines.append(")")
        return "\n".join(lines)


def _tensor_type(tensor):
    kind = {"float32": "Float", "float64": "Double", "int64": "Long"}.get(tensor.dtype.name, "")
    return f"gradkit.{kind}Tensor"


def check_positive(name, value):
    """PyTorch's ValueError for a negative setting, e.g. Invalid learning rate: -0.1."""
    if not value >= 0.0:
        raise ValueError(f"Invalid {name}: {value}")
