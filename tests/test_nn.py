"""gradkit.nn modules: Parameter, Module bookkeeping, layers, freezing, state_dict, train/eval."""
import copy
import math

import numpy as np
import pytest

import gradkit as gk
import gradkit.nn as nn
from gradkit.autograd import gradcheck


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 3)
        self.out = nn.Linear(3, 1)

    def forward(self, x):
        return self.out(self.hidden(x).relu())


# -------------------------------------------------------------------- Parameter
def test_parameter_is_a_leaf_that_requires_grad_and_shares_memory():
    data = gk.tensor([1.0, 2.0])
    p = nn.Parameter(data)
    assert isinstance(p, gk.Tensor) and p.is_leaf and p.requires_grad
    assert not nn.Parameter(data, requires_grad=False).requires_grad
    data.numpy()[0] = 5.0
    assert p.detach().tolist() == [5.0, 2.0]
    assert repr(p) == "Parameter containing:\ntensor([5., 2.], requires_grad=True)"


def test_parameter_of_non_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        nn.Parameter([1.0, 2.0])


def test_parameter_deepcopies():
    p = nn.Parameter(gk.ones(2))
    clone = copy.deepcopy(p)
    assert isinstance(clone, nn.Parameter) and clone.requires_grad and clone.tolist() == [1.0, 1.0]


# ----------------------------------------------------------------------- Module
def test_module_registers_parameters_and_children_in_order():
    model = TwoLayer()
    assert [name for name, _ in model.named_parameters()] == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert list(model.children()) == [model.hidden, model.out]
    assert list(model.modules()) == [model, model.hidden, model.out]
    assert [p.shape for p in model.parameters()] == [(3, 2), (3,), (1, 3), (1,)]
    assert list(model.parameters(recurse=False)) == []


def test_module_call_runs_forward():
    model = TwoLayer()
    assert model(gk.randn(5, 2)).shape == (5, 1)
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(gk.ones(1))


def test_assigning_a_plain_tensor_over_a_parameter_is_refused():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'gradkit.FloatTensor' as parameter 'weight'"):
        layer.weight = gk.ones(2, 2)


def test_shared_parameters_are_listed_once():
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(model.parameters())) == 2


def test_repr_is_like_pytorchs():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Sequential(nn.Dropout(0.1), nn.Sigmoid()))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): Tanh()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.1)\n"
        "    (1): Sigmoid()\n"
        "  )\n"
        ")")


def test_zero_grad_sets_grads_to_none_or_zero():
    model = TwoLayer()
    model(gk.randn(4, 2)).sum().backward()
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_requires_grad_false_freezes_a_layer():
    model = TwoLayer()
    model.hidden.requires_grad_(False)
    model(gk.randn(4, 2)).sum().backward()
    assert model.hidden.weight.grad is None and model.hidden.bias.grad is None
    assert model.out.weight.grad is not None
    model.requires_grad_(True)
    assert all(p.requires_grad for p in model.parameters())


def test_train_and_eval_switch_every_submodule():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    assert model.training and model[1].training
    assert model.eval() is model
    assert not model.training and not model[1].training
    model.train()
    assert model[1].training


def test_state_dict_round_trip():
    gk.manual_seed(1)
    source, target = TwoLayer(), TwoLayer()
    state = source.state_dict()
    assert list(state) == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert not any(t.requires_grad for t in state.values())
    result = target.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = gk.randn(3, 2)
    assert np.array_equal(source(x).detach().numpy(), target(x).detach().numpy())
    target.hidden.weight.grad = None
    assert target.hidden.weight is not source.hidden.weight     # copied values, not shared tensors


def test_load_state_dict_errors_name_keys_and_shapes():
    model = TwoLayer()
    state = model.state_dict()
    del state["out.bias"]
    state["hidden.weight"] = gk.zeros(4, 2)
    state["extra"] = gk.zeros(1)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert "Error(s) in loading state_dict for TwoLayer" in message
    assert 'Missing key(s) in state_dict: "out.bias".' in message
    assert 'Unexpected key(s) in state_dict: "extra".' in message
    assert ("size mismatch for hidden.weight: copying a param with shape gradkit.Size([4, 2]) from checkpoint, "
            "the shape in current model is gradkit.Size([3, 2]).") in message


def test_module_to_double_allows_gradcheck():
    model = TwoLayer().double()
    assert all(p.dtype == gk.float64 for p in model.parameters())
    assert gradcheck(lambda x: model(x), (gk.randn(3, 2, dtype=gk.float64, requires_grad=True),))


# ----------------------------------------------------------------------- Linear
def test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in():
    gk.manual_seed(0)
    layer = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)
    for p in (layer.weight, layer.bias):
        assert p.dtype == gk.float32
        values = p.detach().numpy()
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.9 * bound        # spread over the whole range
    assert layer.weight.shape == (50, 100) and layer.bias.shape == (50,)


def test_linear_without_bias():
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    assert repr(layer) == "Linear(in_features=3, out_features=2, bias=False)"


def test_linear_forward_hand_computed():
    layer = nn.Linear(2, 1)
    layer.load_state_dict({"weight": gk.tensor([[2.0, -1.0]]), "bias": gk.tensor([0.5])})
    assert layer(gk.tensor([[1.0, 3.0]])).tolist() == [[-0.5]]


def test_linear_wrong_input_width_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(4x3 and 2x5\)"):
        nn.Linear(2, 5)(gk.randn(4, 3))


def test_linear_given_numpy_array_is_a_type_error():
    with pytest.raises(TypeError, match="must be Tensor, not numpy.ndarray"):
        nn.Linear(2, 5)(np.ones((4, 2), dtype=np.float32))


# ------------------------------------------------------- activations, containers
def test_activation_modules():
    x = gk.tensor([-1.0, 0.0, 2.0])
    assert nn.ReLU()(x).tolist() == [0.0, 0.0, 2.0]
    assert np.allclose(nn.Tanh()(x).numpy(), np.tanh(x.numpy()))
    assert np.allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-x.numpy())))
    assert repr(nn.ReLU()) == "ReLU()"


def test_dropout_module_respects_train_and_eval():
    gk.manual_seed(0)
    drop = nn.Dropout(0.5)
    x = gk.ones(200)
    assert (drop(x).numpy() == 0).any()
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got -0.1"):
        nn.Dropout(-0.1)


def test_sequential_indexing_len_iteration_and_append():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    assert len(model) == 2 and isinstance(model[0], nn.Linear) and isinstance(model[-1], nn.ReLU)
    assert isinstance(model[:1], nn.Sequential) and len(model[:1]) == 1
    model.append(nn.Linear(3, 1))
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    assert model(gk.randn(4, 2)).shape == (4, 1)
    with pytest.raises(IndexError):
        model[3]


def test_mlp_builds_linears_with_activations_between():
    model = nn.MLP([2, 16, 16, 1], activation=nn.Tanh)
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert model(gk.randn(7, 2)).shape == (7, 1)
    with pytest.raises(ValueError, match="at least an input and an output size"):
        nn.MLP([3])


def test_init_helpers_fill_in_place():
    w = nn.Parameter(gk.empty(3, 4))
    nn.init.zeros_(w)
    assert not w.detach().numpy().any()
    nn.init.constant_(w, 2.0)
    assert (w.detach().numpy() == 2.0).all()
    nn.init.xavier_uniform_(w)
    assert np.abs(w.detach().numpy()).max() <= math.sqrt(6 / 7)
    assert nn.init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
