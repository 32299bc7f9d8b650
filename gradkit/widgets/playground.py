"""The playground: sliders for a function's inputs, a requires_grad switch for each,
and the live graph with the value and grad of everything, recomputed on every change.

    gk.playground(lambda x, y: x * y + x, x=2.0, y=3.0)
    gk.playground(f, x=(2.0, -5, 5))          # (value, min, max)

Built from standard ipywidgets (sliders, checkboxes) around a GraphWidget: no
extra front-end code.
"""
import inspect

import ipywidgets

from .._factories import tensor
from .._tensor import Tensor
from .graph_widget import GraphWidget, display_once


def _slider_spec(name, spec):
    if isinstance(spec, (tuple, list)):
        if len(spec) != 3:
            raise ValueError(f"playground: give {name}= a number or (value, min, max), got {spec!r}")
        value, low, high = (float(v) for v in spec)
    elif isinstance(spec, (int, float)):
        value = float(spec)
        span = max(5.0, abs(value))
        low, high = value - span, value + span
    else:
        raise TypeError(f"playground: {name}= must be a number or (value, min, max), not {type(spec).__name__}")
    if not low <= value <= high:
        raise ValueError(f"playground: {name}={value} is outside its range [{low}, {high}]")
    return value, low, high


def _short(x):
    return f"{x:.4g}"


class Playground(ipywidgets.VBox):
    """Interactive version of "toggle requires_grad anytime": see ``playground``."""

    def __init__(self, fn, **inputs):
        if not callable(fn):
            raise TypeError(f"playground expects a function, got {type(fn).__name__}")
        if not inputs:
            params = [p for p in inspect.signature(fn).parameters.values() if p.default is not p.empty]
            inputs = {p.name: p.default for p in params}
        if not inputs:
            raise ValueError("playground needs a starting value for each input, e.g. playground(f, x=2.0, y=3.0)")
        self.fn = fn
        self.sliders, self.switches = {}, {}
        rows = []
        for name, spec in inputs.items():
            value, low, high = _slider_spec(name, spec)
            slider = ipywidgets.FloatSlider(value=value, min=low, max=high, step=(high - low) / 200,
                                            description=name, continuous_update=True, readout_format=".3g")
            switch = ipywidgets.Checkbox(value=True, description="requires_grad", indent=False)
            slider.observe(self._recompute, names="value")
            switch.observe(self._recompute, names="value")
            self.sliders[name], self.switches[name] = slider, switch
            rows.append(ipywidgets.HBox([slider, switch]))
        self.readout = ipywidgets.HTML()
        self.tensors, self.output = self._run()
        self.graph = GraphWidget(self.output, names=dict(self.tensors, output=self.output), follow=False)
        super().__init__(children=[*rows, self.readout, self.graph])
        self._show_readout()

    def _run(self):
        tensors = {name: tensor(s.value, requires_grad=self.switches[name].value, name=name) for name, s in self.sliders.items()}
        out = self.fn(**tensors)
        if not isinstance(out, Tensor):
            raise TypeError(f"the playground's function must return a gradkit Tensor, got {type(out).__name__}")
        if out._requires_grad:
            out.backward(None if out._data.size == 1 else Tensor(out._data * 0 + 1))
        return tensors, out

    def _recompute(self, _change=None):
        self.tensors, self.output = self._run()
        self.graph.set_roots(self.output, names=dict(self.tensors, output=self.output))
        self._show_readout()

    def summary(self):
        args = ", ".join(f"{k}={_short(t.item())}" for k, t in self.tensors.items())
        value = self.output._data
        text = f"f({args}) = {_short(float(value)) if value.size == 1 else value.tolist()}"
        grads = [f"{k}.grad = {_short(t._grad.item())}" if t._grad is not None else f"{k}.grad = None"
                 for k, t in self.tensors.items()]
        if not self.output._requires_grad:
            grads.append("nothing requires grad: no graph was recorded, backward() is impossible")
        return text + "; " + ", ".join(grads)

    def _show_readout(self):
        import html
        self.readout.value = f"<code>{html.escape(self.summary())}</code>"

    def __repr__(self):
        return f"Playground({self.summary()})"


def playground(fn, using=None, **inputs):
    """Sliders for each input of ``fn``, a requires_grad checkbox per input, and the live graph.

    Every change re-runs ``fn`` on fresh tensors, calls backward() when the result
    requires grad, and redraws: uncheck requires_grad on an input and watch the
    graph lose every op that only it fed. ``using=torch``: the inputs are torch tensors.
    """
    if using is not None and getattr(using, "__name__", None) == "torch":
        from .torch_live import torch_playground_class
        return display_once(torch_playground_class()(fn, **inputs))
    return display_once(Playground(fn, **inputs))
