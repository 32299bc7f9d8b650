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


# ------------------------------------------------------------------ containers
def _kinds(modules):
    return [type(m).__name__ for m in modules]


def test_sequential_item_assignment_deletion_insert_and_pop_renumber_like_pytorch():
    model = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 3))
    model[1] = nn.Tanh()
    model[-1] = nn.Linear(2, 4)
    assert _kinds(model) == ["Linear", "Tanh", "Linear"] and model[2].out_features == 4
    del model[0]
    assert [name for name, _ in model.named_children()] == ["0", "1"]
    assert [name for name, _ in model.named_parameters()] == ["1.weight", "1.bias"]
    model.insert(0, nn.Identity())
    assert _kinds(model) == ["Identity", "Tanh", "Linear"]
    assert isinstance(model.pop(1), nn.Tanh) and _kinds(model) == ["Identity", "Linear"]
    model.extend([nn.Sigmoid()])
    assert list(dict(model.named_children())) == ["0", "1", "2"]
    with pytest.raises(IndexError, match="index 7 is out of range"):
        model[7] = nn.ReLU()
    with pytest.raises(TypeError, match="'str' object cannot be interpreted as an integer"):
        model["a"]
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        model.append(3)


def test_sequential_slices_keep_names_and_add_concatenates():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    tail = model[1:]
    assert isinstance(tail, nn.Sequential) and list(dict(tail.named_children())) == ["1", "2"]
    assert tail[0] is model[1]
    joined = model[:1] + nn.Sequential(nn.Tanh())
    assert _kinds(joined) == ["Linear", "Tanh"] and joined[0] is model[0]
    x = gk.randn(4, 2)
    assert np.array_equal(model(x).detach().numpy(), tail(model[0](x)).detach().numpy())


def test_module_list_registers_and_behaves_like_a_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.ReLU())
    layers += [nn.Tanh()]
    layers.insert(0, nn.Identity())
    assert len(layers) == 6 and _kinds(layers)[:2] == ["Identity", "Linear"]
    assert [name for name, _ in layers.named_parameters()][:2] == ["1.weight", "1.bias"]
    sliced = layers[1:3]
    assert isinstance(sliced, nn.ModuleList) and list(dict(sliced.named_children())) == ["0", "1"]
    del layers[0]
    assert list(dict(layers.named_children())) == ["0", "1", "2", "3", "4"]
    with pytest.raises(NotImplementedError, match=r'Module \[ModuleList\] is missing the required "forward"'):
        layers(gk.ones(2))

    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    assert len(list(Stack().parameters())) == 4


def test_module_list_repr_groups_repeats_like_pytorch():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU(), nn.ReLU(), nn.Linear(2, 1)])
    assert repr(layers) == (
        "ModuleList(\n"
        "  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)\n"
        "  (3-4): 2 x ReLU()\n"
        "  (5): Linear(in_features=2, out_features=1, bias=True)\n"
        ")")


def test_module_dict():
    heads = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Linear(1, 1)})
    assert list(heads) == ["b", "a"] and "a" in heads and len(heads) == 2
    heads["c"] = nn.Tanh()
    assert isinstance(heads.pop("b"), nn.ReLU) and list(heads.keys()) == ["a", "c"]
    heads.update([("z", nn.Identity())])
    assert _kinds(heads.values()) == ["Linear", "Tanh", "Identity"]
    assert [name for name, _ in heads.named_parameters()] == ["a.weight", "a.bias"]
    assert repr(heads).startswith("ModuleDict(\n  (a): Linear(in_features=1, out_features=1, bias=True)\n")
    with pytest.raises(KeyError):
        heads["b"]
    heads.clear()
    assert len(heads) == 0


def test_flatten_and_identity():
    x = gk.randn(2, 3, 4, requires_grad=True)
    assert nn.Flatten()(x).shape == (2, 12) and nn.Flatten(0, 1)(x).shape == (6, 4)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    nn.Flatten()(x).sum().backward()
    assert x.grad.shape == (2, 3, 4)
    assert nn.Identity(3, unused=True)(x) is x and repr(nn.Identity()) == "Identity()"


def test_buffers_are_state_but_not_parameters():
    class Normalise(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", gk.zeros(2))
            self.register_buffer("scratch", gk.zeros(1), persistent=False)
            self.fc = nn.Linear(2, 1)
    model = Normalise()
    assert [name for name, _ in model.named_buffers()] == ["mean", "scratch"]
    assert list(model.state_dict()) == ["mean", "fc.weight", "fc.bias"]
    assert len(list(model.parameters())) == 2
    model.mean = gk.ones(2)
    assert model.state_dict()["mean"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="cannot assign 'int' as buffer 'mean'"):
        model.mean = 3
    with pytest.raises(KeyError, match="attribute 'fc' already exists"):
        model.register_buffer("fc", gk.ones(1))
    model.load_state_dict({"mean": gk.tensor([5.0, 6.0]), "fc.weight": gk.zeros(1, 2), "fc.bias": gk.zeros(1)})
    assert model.mean.tolist() == [5.0, 6.0] and model.double().mean.dtype == gk.float64


def test_container_names_and_repr_match_pytorch():
    torch = pytest.importorskip("torch")

    def build(lib):
        model = lib.nn.Sequential(lib.nn.Flatten(), lib.nn.Linear(4, 3), lib.nn.ReLU(),
                                  lib.nn.ModuleList([lib.nn.Linear(3, 3), lib.nn.Linear(3, 3)]),
                                  lib.nn.ModuleDict({"out": lib.nn.Linear(3, 1), "id": lib.nn.Identity()}))
        del model[2]
        model.insert(1, lib.nn.Identity())
        model[-1]["extra"] = lib.nn.Tanh()
        return repr(model).replace("torch.", "gradkit."), [name for name, _ in model.named_parameters()]
    assert build(gk) == build(torch)


def test_shared_modules_are_walked_once_but_saved_under_every_name_like_pytorch():
    torch = pytest.importorskip("torch")

    def names(lib):
        layer, act = lib.nn.Linear(1, 1), lib.nn.ReLU()
        model = lib.nn.Sequential(layer, act, layer, act)
        return ([n for n, _ in model.named_modules()], [n for n, _ in model.named_children()],
                list(model.state_dict()), [n for n, _ in model.named_parameters()],
                [n for n, _ in model.named_parameters(remove_duplicate=False)], len(list(model.modules())))
    assert names(gk) == names(torch)


def test_module_to_accepts_devices_and_refuses_integer_dtypes():
    model = TwoLayer()
    assert model.to("cpu") is model and model.cpu() is model
    assert model.to("cpu", gk.float64).hidden.weight.dtype == gk.float64
    assert model.to(gk.zeros(1)).hidden.weight.dtype == gk.float32
    assert model.to(dtype=gk.float64, device="cpu").out.bias.dtype == gk.float64
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point or complex dtypes, but got "
                                        "desired dtype=gradkit.int64"):
        model.to(gk.int64)
