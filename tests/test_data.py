"""gradkit.data: shapes, dtypes, labels, repeatability, and the batches iterator."""
import numpy as np
import pytest

import gradkit as gk


@pytest.mark.parametrize("make, n, classes", [
    (lambda: gk.data.two_moons(101, seed=0), 101, {0, 1}),
    (lambda: gk.data.spirals(50, n_classes=4, seed=0), 200, {0, 1, 2, 3}),
    (lambda: gk.data.xor(), 4, {0, 1}),
    (lambda: gk.data.xor(40, noise=0.1, seed=0), 40, {0, 1}),
])
def test_classification_sets_have_float32_points_and_int64_labels(make, n, classes):
    X, y = make()
    assert X.shape == (n, 2) and X.dtype == gk.float32
    assert y.shape == (n,) and y.dtype == gk.int64
    assert set(y.tolist()) == classes
    assert not X.requires_grad


def test_xor_corners_and_labels():
    X, y = gk.data.xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [0, 1, 1, 0]


def test_two_moons_without_noise_lie_on_unit_half_circles():
    X, y = gk.data.two_moons(100, noise=0.0, seed=0)
    upper = X.numpy()[y.numpy() == 0]
    lower = X.numpy()[y.numpy() == 1]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-6)
    assert np.allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, atol=1e-6)


def test_linear_regression_follows_the_line():
    X, y = gk.data.linear_regression(500, weight=[2.0, -3.0], bias=0.5, noise=0.01, seed=0)
    assert X.shape == (500, 2) and y.shape == (500, 1) and y.dtype == gk.float32
    design = np.hstack([X.numpy(), np.ones((500, 1))])
    fit = np.linalg.lstsq(design, y.numpy()[:, 0], rcond=None)[0]
    assert np.allclose(fit, [2.0, -3.0, 0.5], atol=0.01)


def test_seed_repeats_and_manual_seed_drives_the_default():
    assert np.array_equal(gk.data.spirals(seed=3)[0].numpy(), gk.data.spirals(seed=3)[0].numpy())
    gk.manual_seed(7)
    first = gk.data.two_moons(20)[0].numpy()
    gk.manual_seed(7)
    assert np.array_equal(first, gk.data.two_moons(20)[0].numpy())


def test_batches_cover_the_data_once():
    X = gk.arange(10).float().reshape(10, 1)
    y = gk.arange(10)
    seen = []
    sizes = []
    for xb, yb in gk.data.batches(X, y, batch_size=4, seed=0):
        assert xb[:, 0].long().tolist() == yb.tolist()          # rows stay paired
        seen += yb.tolist()
        sizes.append(len(yb))
    assert sorted(seen) == list(range(10)) and sizes == [4, 4, 2]
    in_order = [yb.tolist() for _, yb in gk.data.batches(X, y, batch_size=5, shuffle=False)]
    assert in_order == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]


def test_batches_reject_bad_input():
    X, y = gk.zeros(4, 2), gk.zeros(3)
    with pytest.raises(ValueError, match="same length, got 4 and 3"):
        next(gk.data.batches(X, y))
    with pytest.raises(TypeError, match="X must be a Tensor, not ndarray"):
        next(gk.data.batches(np.zeros((3, 2)), y))
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        next(gk.data.batches(gk.zeros(3, 2), y, batch_size=0))
