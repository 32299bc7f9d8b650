"""Real PyTorch teaching programs run unchanged on gradkit (issue 11).

Each file in tests/tutorials/ is a public PyTorch tutorial program (its source
URL is at its top) with only its random data made by numpy, so that both
libraries see the same numbers. It runs twice in a fresh interpreter: with real
torch, and with every ``import torch`` loading gradkit. The printed output must
match (numbers within a tolerance, object addresses ignored) and so must every
tensor and module parameter the program leaves behind.
"""
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

HERE = Path(__file__).parent
PROGRAMS = sorted((HERE / "tutorials").glob("[0-9]*.py"))
RTOL, ATOL = 1e-3, 1e-5
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|\bnan\b|\binf\b")


def run(library, program, tmp_path):
    out = tmp_path / f"{library}.pkl"
    done = subprocess.run([sys.executable, str(HERE / "tutorials" / "run.py"), library, str(program), str(out)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    tensors = pickle.loads(out.read_bytes()) if done.returncode == 0 else None
    return done, tensors


def _normalise(line):
    line = re.sub(r"0x[0-9a-fA-F]+", "0x…", line)
    return line.replace("gradkit", "torch")


def _last_digit(text):
    """The value of one unit in the last printed digit: 0.0006 -> 0.0001, 1.5e-03 -> 1e-04."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def _close(g, t):
    """Equal within RTOL, or within one unit of the last digit printed (rounding of a printed number)."""
    a, b = float(g), float(t)
    if np.isnan(a) or np.isnan(b) or np.isinf(a) or np.isinf(b):
        return (np.isnan(a) and np.isnan(b)) or a == b
    return abs(a - b) <= max(RTOL * abs(b), ATOL, 1.01 * max(_last_digit(g), _last_digit(t)))


def output_differences(gradkit_text, torch_text):
    """Lines that differ: same words, and numbers equal within the tolerance."""
    g_lines, t_lines = gradkit_text.splitlines(), torch_text.splitlines()
    found = []
    if len(g_lines) != len(t_lines):
        found.append(f"gradkit printed {len(g_lines)} lines, torch {len(t_lines)}")
    for i, (g, t) in enumerate(zip(g_lines, t_lines), 1):
        g, t = _normalise(g), _normalise(t)
        g_numbers, t_numbers = _NUMBER.findall(g), _NUMBER.findall(t)
        same_words = _NUMBER.sub("#", g) == _NUMBER.sub("#", t)
        same_numbers = len(g_numbers) == len(t_numbers) and all(map(_close, g_numbers, t_numbers))
        if not (same_words and same_numbers):
            found.append(f"line {i}:\n  gradkit: {g}\n  torch:   {t}")
    return found


def tensor_differences(gradkit_tensors, torch_tensors):
    found = []
    for name in sorted(set(gradkit_tensors) | set(torch_tensors)):
        g, t = gradkit_tensors.get(name), torch_tensors.get(name)
        if g is None or t is None:
            found.append(f"{name}: only in {'torch' if g is None else 'gradkit'}")
        elif g.shape != t.shape or not np.allclose(g, t, rtol=RTOL, atol=_tensor_atol(t), equal_nan=True):
            found.append(f"{name}: gradkit {np.array2string(g, threshold=6)} | torch {np.array2string(t, threshold=6)}")
    return found


def _tensor_atol(t):
    """ATOL, or 1e-4 of the tensor's largest magnitude if more: weights trained for thousands of float32
    steps carry rounding differences of the size of their updates (1e-4 of the scale measured), which
    near-zero entries cannot meet relatively. A wrong gradient is off by far more."""
    finite = np.abs(t[np.isfinite(t)]) if t.size else np.zeros(0)
    return max(ATOL, 1e-4 * float(finite.max(initial=0.0)))


def test_tensor_comparison_tolerates_only_training_rounding():
    w = np.array([3.0, -0.0076, 0.5])
    assert tensor_differences({"w": w + [0, 2.8e-5, 0]}, {"w": w}) == []
    assert tensor_differences({"w": w + [0, 5e-4, 0]}, {"w": w}) != []
    assert tensor_differences({"w": w * 1.01}, {"w": w}) != []


def test_the_corpus_is_big_enough_and_cites_its_sources():
    assert len(PROGRAMS) >= 12
    for program in PROGRAMS:
        head = program.read_text(encoding="utf-8")[:600]
        assert re.search(r"Source: https?://\S+", head), program.name


def test_output_comparison_tolerates_only_rounding():
    assert output_differences("loss 1.00001 at 0x7f00", "loss 1.0 at 0x1234") == []
    assert output_differences("loss 1.3", "loss 1.0") != []
    assert output_differences("tensor([-0.0002,  0.0006])", "tensor([-0.0001,  0.0006])") == []
    assert output_differences("tensor([-0.0003,  0.0006])", "tensor([-0.0001,  0.0006])") != []
    assert output_differences("tensor([1.], grad_fn=<MulBackward0>)", "tensor([1.], grad_fn=<AddBackward0>)") != []


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_tutorial_runs_the_same_on_gradkit(program, tmp_path):
    torch_run, torch_tensors = run("torch", program, tmp_path)
    assert torch_run.returncode == 0, f"the program fails on torch itself:\n{torch_run.stderr[-3000:]}"
    gradkit_run, gradkit_tensors = run("gradkit", program, tmp_path)
    assert gradkit_run.returncode == 0, (
        f"fails on gradkit after {len(gradkit_run.stdout.splitlines())} lines of output:\n"
        f"{gradkit_run.stderr[-2500:]}")
    problems = output_differences(gradkit_run.stdout, torch_run.stdout)
    problems += tensor_differences(gradkit_tensors, torch_tensors)
    assert not problems, "\n".join(problems[:15])
