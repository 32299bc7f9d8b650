"""Differential fuzzing of gradkit against PyTorch (issue 11).

programs.py writes random autograd programs as source text; compare.py runs one
program with ``gk`` bound to gradkit and to torch, lists the differences, and
shrinks a differing program to a minimal one. tests/test_fuzz_torch.py drives them.
"""
