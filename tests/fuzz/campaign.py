"""Fuzz many seeds; group the differing programs by cause; shrink one program per group."""
import re
from dataclasses import dataclass, field

from .compare import compare, primary, shrink
from .programs import as_source, generate

_VARIABLE = re.compile(r"\bx\d+\b")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(\.\d+)?(e-?\d+)?")


def _skeleton(text):
    return _NUMBER.sub("#", _VARIABLE.sub("x", text))


def _statement_of(difference, program):
    """The statement a difference is about: the numbered one, or the one that made the variable."""
    if difference.where.startswith("statement "):
        return program[int(difference.where.split()[1]) - 1]
    made = [s for s in program if re.search(rf"\b{difference.where}\b,? =", s)]
    return made[-1] if made else ""


def signature(difference, program):
    """Programs with the same signature most likely differ for the same reason."""
    kind, gradkit, torch = difference.kind, _skeleton(difference.gradkit), _skeleton(difference.torch)
    if kind == "repr" and gradkit.split() == torch.split():
        return (kind, "line wrapping")
    if kind in ("error", "error-message", "warning", "grad_fn", "graph", "repr"):
        return (kind, gradkit[:70], torch[:70])
    return (kind, _skeleton(_statement_of(difference, program).split(" = ", 1)[-1]))


@dataclass
class Group:
    signature: tuple
    program: list                    # shrunk
    differences: list                # of the shrunk program
    seeds: list = field(default_factory=list)

    def describe(self):
        lines = [f"{len(self.seeds)} program(s), e.g. seed {self.seeds[0]}; shrunk repro:"]
        lines += ["    " + line for line in as_source(self.program).splitlines()]
        shown = sorted(self.differences, key=lambda d: d is not primary(self.differences))[:3]
        lines += ["  -> " + str(d) for d in shown]
        return "\n".join(lines)


def fuzz(seeds, gradkit, torch, quirks=(), shrink_budget=60):
    """Groups of differing programs, largest first; at most shrink_budget groups get shrunk."""
    groups = {}
    for seed in seeds:
        program = generate(seed, torch)
        found = compare(program, gradkit, torch, quirks)
        if not found:
            continue
        key = signature(primary(found), program)
        if key not in groups:
            if len(groups) < shrink_budget:
                small, small_found = shrink(program, gradkit, torch, quirks)
            else:
                small, small_found = program, found
            groups[key] = Group(key, small, small_found)
        groups[key].seeds.append(seed)
    return sorted(groups.values(), key=lambda g: -len(g.seeds))
