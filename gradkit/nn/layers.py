"""Layers: Linear, activations, Dropout, Flatten, Identity, and MLP (a ready-made Sequential)."""
import math

from .. import _dtype
from .._factories import empty
from .. import ops
from ..autograd.grad_mode import no_grad
from . import functional as F
from . import init
from .containers import Sequential
from .module import Module
from .parameter import Parameter


class Linear(Module):
    """y = x @ weight.T + bias, with weight (out_features, in_features) and PyTorch's default init.

        layer = gk.nn.Linear(2, 3)
        layer(gk.randn(8, 2)).shape      # gradkit.Size([8, 3])
        layer.weight.shape               # gradkit.Size([3, 2])
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        dtype = dtype or _dtype.float32
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # kaiming_uniform(a=sqrt(5)) gives U(-1/sqrt(in), 1/sqrt(in)); the bias uses the same bound.
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):  # noqa: A002 - PyTorch's argument name
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """A table of ``num_embeddings`` learnable vectors of size ``embedding_dim``, looked up by integer:
    ``gk.nn.Embedding(27, 10)(gk.tensor([3, 3, 0]))`` has shape (3, 10). Starts as N(0, 1), as PyTorch;
    the ``padding_idx`` row starts at zero and gets no gradient."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = F.padding_row(padding_idx, num_embeddings)
        self.weight = Parameter(empty(num_embeddings, embedding_dim, dtype=dtype or _dtype.float32))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input):  # noqa: A002
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        padding = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"


class _MaybeInPlace(Module):
    """An activation with PyTorch's ``inplace=`` option: write the result back into the input."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ReLU(_MaybeInPlace):
    """max(x, 0) element-wise: ``gk.nn.ReLU()(gk.tensor([-1., 2.]))`` is ``tensor([0., 2.])``.
    ``inplace=True`` writes the result back into the input (saving memory; the input is then changed)."""

    def forward(self, input):  # noqa: A002
        return F.relu(input, self.inplace)


class SiLU(_MaybeInPlace):
    """x σ(x) element-wise (swish)."""

    def forward(self, input):  # noqa: A002
        return F.silu(input, self.inplace)


class GELU(Module):
    """x Φ(x) element-wise, Φ the standard normal CDF (``approximate="tanh"``: the tanh formula)."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):  # noqa: A002
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):  # noqa: A002
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x where x > 0, else alpha * (eˣ - 1)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):  # noqa: A002
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Softplus(Module):
    """log(1 + e^(beta x)) / beta element-wise: a smooth relu."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):  # noqa: A002
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Tanh(Module):
    """tanh element-wise, squashing values into (-1, 1)."""

    def forward(self, input):  # noqa: A002
        return F.tanh(input)


class Sigmoid(Module):
    """1 / (1 + exp(-x)) element-wise, squashing values into (0, 1)."""

    def forward(self, input):  # noqa: A002
        return F.sigmoid(input)


class Softmax(Module):
    """Probabilities along ``dim``: exp(x) / exp(x).sum(dim). ``gk.nn.Softmax(dim=1)(logits)`` rows sum to 1."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):  # noqa: A002
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log(softmax(x)) along ``dim``, computed stably (pair it with NLLLoss)."""

    def forward(self, input):  # noqa: A002
        return F.log_softmax(input, self.dim)


class Dropout(Module):
    """In training mode, zero each element with probability p and scale the rest by 1/(1-p); in eval mode, pass through.

        drop = gk.nn.Dropout(0.5)
        drop(gk.ones(6))          # e.g. tensor([2., 0., 2., 2., 0., 0.])
        drop.eval()(gk.ones(6))   # tensor([1., 1., 1., 1., 1., 1.])
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):  # noqa: A002
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Identity(Module):
    """Returns its input unchanged (any constructor arguments are ignored): a placeholder layer.

        model[2] = gk.nn.Identity()      # e.g. remove a layer without rebuilding the model
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):  # noqa: A002
        return input


class Flatten(Module):
    """Merge dimensions ``start_dim``..``end_dim`` into one: (N, C, H, W) -> (N, C·H·W) by default.

        gk.nn.Flatten()(gk.zeros(8, 3, 4)).shape     # gradkit.Size([8, 12])
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):  # noqa: A002
        return ops.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class MLP(Sequential):
    """Linear layers of the given sizes with an activation between them (none after the last).

        model = gk.nn.MLP([2, 16, 16, 1])            # Linear, ReLU, Linear, ReLU, Linear
        model = gk.nn.MLP([2, 16, 1], activation=gk.nn.Tanh)
        model[0].requires_grad_(False)               # freeze the first layer
    """

    def __init__(self, sizes, activation=ReLU, bias=True):
        if len(sizes) < 2:
            raise ValueError(f"MLP needs at least an input and an output size, got sizes={list(sizes)}")
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(fan_in, fan_out, bias=bias))
            if i < len(sizes) - 2:
                layers.append(activation())
        super().__init__(*layers)
