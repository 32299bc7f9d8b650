"""Hypothesis strategies for the core tests: small shapes that broadcast, float64 values."""
import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradkit as gk

# Modest and deadline-free: the whole core suite must stay quick on two cores.
core = settings(max_examples=30, deadline=None)

small = st.floats(-3, 3, allow_nan=False, allow_infinity=False, width=64)
positive = st.floats(0.2, 3, allow_nan=False, allow_infinity=False, width=64)


def arrays(shape, elements=small):
    return hnp.arrays(np.float64, shape, elements=elements)


def shapes(min_dims=0, max_dims=3, max_side=3):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


@st.composite
def broadcast_pair(draw, elements=small):
    """Two float64 arrays whose shapes broadcast against each other."""
    a_shape, b_shape = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)).input_shapes
    return draw(arrays(a_shape, elements)), draw(arrays(b_shape, elements))


@st.composite
def array_and_dim(draw, min_dims=1, elements=small):
    """An array and a valid (possibly negative) dim of it."""
    shape = draw(shapes(min_dims=min_dims))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return draw(arrays(shape, elements)), dim


def leaf(array):
    """A float64 leaf that requires grad, from a numpy array."""
    return gk.tensor(np.array(array, dtype=np.float64), requires_grad=True)


def separated(min_gap=0.05):
    """Float64 values kept apart from each other, so max/min/abs have unique, kink-free answers."""
    return st.floats(-3, 3, allow_nan=False, allow_infinity=False, width=64).filter(lambda v: abs(v) > min_gap)
