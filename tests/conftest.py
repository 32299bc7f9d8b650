"""Shared fixtures for the core tests."""
import numpy as np
import pytest

import gradkit as gk


@pytest.fixture(autouse=True)
def _fresh_grad_mode():
    """Every test starts with grad mode on, and a test that leaves it off fails loudly."""
    assert gk.is_grad_enabled(), "a previous test left grad mode off"
    yield
    enabled = gk.is_grad_enabled()
    gk.set_grad_enabled(True)
    assert enabled, "this test left grad mode off"


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def pytest_addoption(parser):
    parser.addoption("--long", action="store_true", default=False,
                     help="long runs: thousands of differential fuzz programs instead of a few hundred")
