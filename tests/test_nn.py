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
        "    (0): Dropout(p=0.1, inplace=False)\n"
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
    assert repr(result) == "<All keys matched successfully>"       # what a notebook cell shows, as in PyTorch
    partial = target.load_state_dict({"out.bias": state["out.bias"]}, strict=False)
    assert repr(partial).startswith("_IncompatibleKeys(missing_keys=['hidden.weight', 'hidden.bias', 'out.weight']")
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


@pytest.mark.parametrize("fill, kwargs, std", [
    ("kaiming_normal_", {"nonlinearity": "tanh"}, (5 / 3) / math.sqrt(300)),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2) / math.sqrt(2000)),
    ("kaiming_normal_", {}, math.sqrt(2 / (1 + 0.01 ** 2)) / math.sqrt(300)),
    ("xavier_normal_", {"gain": 2.0}, 2.0 * math.sqrt(2 / 2300)),
])
def test_normal_inits_have_their_standard_deviation(fill, kwargs, std):
    gk.manual_seed(0)
    w = getattr(nn.init, fill)(gk.empty(2000, 300), **kwargs)
    assert abs(float(w.std()) / std - 1) < 0.01 and abs(float(w.mean())) < 0.01 * std * 10


def test_kaiming_refuses_an_unknown_mode():
    with pytest.raises(ValueError, match=r"Mode fan_up not supported, please use one of \['fan_in', 'fan_out'\]"):
        nn.init.kaiming_normal_(gk.empty(3, 4), mode="fan_up")


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


def test_softmax_modules():
    x = gk.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    probs = nn.Softmax(dim=1)(x)
    assert np.allclose(probs.numpy().sum(axis=1), 1.0) and repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert np.allclose(nn.LogSoftmax(dim=1)(x).numpy(), np.log(probs.numpy()))
    assert nn.LogSoftmax(dim=1)(x.requires_grad_()).grad_fn.name() == "LogSoftmaxBackward0"
    assert repr(nn.LogSoftmax(dim=0)) == "LogSoftmax(dim=0)"


def test_bad_member_names_are_pytorchs_errors():
    model = nn.Sequential(nn.ReLU())
    with pytest.raises(KeyError, match=r"module name can.{1,2}t contain \"\.\", got: a\.b"):      # KeyError shows repr
        model.add_module("a.b", nn.ReLU())
    with pytest.raises(TypeError, match="module name should be a string. Got int"):
        nn.ModuleDict({1: nn.ReLU()})
    with pytest.raises(KeyError, match=r'buffer name can.{1,2}t be empty string ""'):
        model.register_buffer("", gk.ones(1))
    with pytest.raises(KeyError, match="attribute 'training' already exists"):
        model.register_parameter("training", None)
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable, but got ReLU"):
        nn.ModuleList(nn.ReLU())


def _clipping_run(lib):
    a = lib.nn.Parameter(lib.tensor([3.0, 4.0], dtype=lib.float64))
    b = lib.nn.Parameter(lib.tensor([12.0], dtype=lib.float64))
    idle = lib.nn.Parameter(lib.ones(1))
    a.grad, b.grad = a.detach().clone(), b.detach().clone()
    seen = [lib.nn.utils.clip_grad_norm_([a, b, idle], 1.0).tolist(), a.grad.tolist(), b.grad.tolist()]
    seen.append(lib.nn.utils.clip_grad_norm_(idle, 1.0).tolist())
    seen.append(lib.nn.utils.clip_grad_norm_(a, 100.0, norm_type="inf").tolist())
    seen.append(lib.nn.utils.clip_grad_value_([a, b], 0.1))
    seen += [a.grad.tolist(), b.grad.tolist(), idle.grad]
    b.grad = lib.tensor([float("inf")], dtype=lib.float64)
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is "
                                           "non-finite, so it cannot be clipped."):
        lib.nn.utils.clip_grad_norm_([b], 1.0, error_if_nonfinite=True)
    seen.append(repr(lib.nn.utils.clip_grad_norm_([b], 1.0).item()))
    return seen


def test_gradient_clipping_matches_pytorch():
    torch = pytest.importorskip("torch")
    import torch.nn.utils  # noqa: F401
    ours, theirs = _clipping_run(gk), _clipping_run(torch)
    assert ours[0] == 13.0 and ours[1] == pytest.approx([3 / 13, 4 / 13])
    np.testing.assert_allclose(np.hstack(ours[1:3]), np.hstack(theirs[1:3]), rtol=1e-15)
    assert ours[3:] == theirs[3:] and ours[0] == theirs[0]


def test_gradient_clipping_tells_live_displays_once():
    from gradkit import _events
    heard = []

    def listener(tensors):
        heard.append(tensors)
    unsubscribe = _events.subscribe("grad", listener)
    try:
        p = nn.Parameter(gk.ones(3))
        p.grad = gk.full((3,), 5.0)
        heard.clear()
        nn.utils.clip_grad_value_([p], 1.0)
    finally:
        unsubscribe()
    assert p.grad.tolist() == [1.0, 1.0, 1.0] and len(heard) == 1 and heard[0][0] is p


def test_embedding_looks_up_rows_and_sends_their_grads_back():
    gk.manual_seed(0)
    table = gk.nn.Embedding(5, 3)
    assert repr(table) == "Embedding(5, 3)" and table.weight.requires_grad
    assert [name for name, _ in table.named_parameters()] == ["weight"]
    out = table(gk.tensor([[1, 1], [4, 0]]))
    assert out.shape == (2, 2, 3) and out.grad_fn.name() == "EmbeddingBackward0"
    assert out[0, 0].tolist() == table.weight[1].tolist()
    (out * gk.arange(12.0).reshape(2, 2, 3)).sum().backward()
    assert table.weight.grad.tolist() == [[9, 10, 11], [3, 5, 7], [0, 0, 0], [0, 0, 0], [6, 7, 8]]   # row 1 used twice
    padded = gk.nn.Embedding(4, 2, padding_idx=-4)
    assert repr(padded) == "Embedding(4, 2, padding_idx=0)" and padded.weight[0].tolist() == [0.0, 0.0]
    padded(gk.tensor([0, 0, 2])).sum().backward()
    assert padded.weight.grad.tolist() == [[0, 0], [0, 0], [1, 1], [0, 0]]
    with pytest.raises(IndexError, match="index out of range in self"):
        table(gk.tensor([5]))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        gk.nn.Embedding(3, 2, padding_idx=3)


def test_save_and_load_a_state_dict_and_tensors(tmp_path):
    gk.manual_seed(0)
    model = TwoLayer()
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    gk.save({"model": model.state_dict(), "x": x, "step": 3, "scalar": gk.tensor(2.5), "t": x.detach()[None].mT},
            tmp_path / "checkpoint.pt")
    loaded = gk.load(tmp_path / "checkpoint.pt")
    assert loaded["step"] == 3 and loaded["x"].requires_grad and loaded["x"].tolist() == [1.0, 2.0]
    assert loaded["scalar"].shape == () and loaded["scalar"].item() == 2.5      # 0-d stays 0-d
    assert loaded["t"].tolist() == [[1.0], [2.0]]                               # a transposed view's values
    again = TwoLayer()
    assert repr(again.load_state_dict(loaded["model"])) == "<All keys matched successfully>"
    assert np.array_equal(again.hidden.weight.detach().numpy(), model.hidden.weight.detach().numpy())


def test_load_refuses_to_build_anything_but_tensors_unless_told(tmp_path):
    gk.save(TwoLayer(), tmp_path / "model.pt")               # a whole module: pickled classes
    with pytest.raises(Exception, match="Weights only load failed: the file asks to build"):
        gk.load(tmp_path / "model.pt")
    assert isinstance(gk.load(tmp_path / "model.pt", weights_only=False), TwoLayer)


def test_deepcopy_keeps_a_leafs_grad_and_refuses_a_non_leaf():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    y = copy.deepcopy(x)
    assert y.requires_grad and y.grad.tolist() == [2.0, 2.0] and y.grad is not x.grad
    with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user"):
        copy.deepcopy(x * 2)
