"""Run one program with ``gk`` bound to a library; compare gradkit's run with torch's.

What is compared, per statement: the error raised (type, and the start of the
first line of the message) and the warnings issued; at the end, for every tensor
variable: shape, dtype, values, requires_grad, is_leaf, retains_grad, grad_fn's
name, the graph behind it (names, three levels deep), .grad (None vs tensor,
dtype, values) and, where values, flags and grad_fn agree, repr; and which
hooks ran (hooks the program registers append to ``calls``).
"""
import ast
import functools
import re
import warnings
from dataclasses import dataclass

import numpy as np

RTOL, ATOL = 1e-4, 1e-5


@functools.lru_cache(maxsize=None)
def _compiled(statement):
    return compile(statement, "<program>", "exec")


def first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else ""


def run_statement(statement, namespace):
    """Exec one statement; return (the exception or None, the warnings it issued)."""
    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exec(_compiled(statement), namespace)
        except Exception as e:      # noqa: BLE001 - the error is what we compare
            error = e
    return error, [f"{w.category.__name__}: {str(w.message).splitlines()[0] if str(w.message) else ''}"
                   for w in caught]


@dataclass
class Trace:
    events: list          # per statement: (error type name or None, error first line, warnings)
    tensors: dict         # variable name -> {attribute: comparable value}
    hook_calls: list      # names appended by hooks the program registered, in call order


def _graph(node, depth=3):
    if node is None:
        return "None"
    name = node.name()
    if depth == 0:
        return name
    return name + "(" + ",".join(_graph(n, depth - 1) for n, _ in node.next_functions) + ")"


def _array(t):
    if getattr(t, "_is_zerotensor", lambda: False)():   # torch's efficient zeros (grad of grad): read as zeros
        return np.array(t.detach().numpy(force=True), copy=True)
    return np.array(t.detach().numpy(), copy=True)


def _attributes(t, library):
    """Everything we compare about one tensor, each read separately (a read may raise)."""
    readers = {
        "shape": lambda: tuple(t.shape),
        "dtype": lambda: str(t.dtype).split(".")[-1],
        "value": lambda: _array(t),
        "requires_grad": lambda: t.requires_grad,
        "is_leaf": lambda: t.is_leaf,
        "retains_grad": lambda: t.retains_grad,
        "grad_fn": lambda: None if t.grad_fn is None else t.grad_fn.name(),
        "graph": lambda: _graph(t.grad_fn),
        "grad": lambda: None if t.grad is None else (str(t.grad.dtype).split(".")[-1], _array(t.grad)),
        "repr": lambda: repr(t).replace(library.__name__ + ".", "torch."),
    }
    record = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, read in readers.items():
            try:
                record[key] = read()
            except Exception as e:      # noqa: BLE001
                record[key] = f"raised {type(e).__name__}: {first_line(e)}"
    return record


def run_program(program, library):
    namespace = {"gk": library, "calls": []}
    events = []
    try:
        for statement in program:
            error, caught = run_statement(statement, namespace)
            events.append((None if error is None else type(error).__name__,
                           None if error is None else first_line(error), caught))
    finally:
        library.set_grad_enabled(True)
    tensors = {name: _attributes(value, library) for name, value in namespace.items()
               if isinstance(value, library.Tensor)}
    return Trace(events, tensors, namespace["calls"])


@dataclass(frozen=True)
class Difference:
    kind: str          # error, error-message, warning, missing, or a tensor attribute
    where: str         # "statement 3" or a variable name
    gradkit: str
    torch: str

    def __str__(self):
        return f"{self.kind} of {self.where}: gradkit {self.gradkit} | torch {self.torch}"


def only_zero_signs_differ(difference):
    """The values (or repr) agree once the sign of every zero, and of infinities (1 / -0.), is dropped."""
    def unsigned(text):
        return "".join(re.sub(r"-(?=0\.0*(?![0-9])|inf)", "", text).split())
    return difference.kind in ("repr", "value") and unsigned(difference.gradkit) == unsigned(difference.torch)


def only_extra_warnings(difference, accept):
    """A warning difference where gradkit issued all of torch's warnings plus only ones ``accept(text)`` allows."""
    gradkit, torch = ast.literal_eval(difference.gradkit), ast.literal_eval(difference.torch)
    extra = [w for w in gradkit if w not in torch]
    return bool(extra) and len(gradkit) - len(extra) == len(torch) and all(map(accept, extra))


def _message_prefix(torch_line):
    """The part of torch's message gradkit must start with: up to a ':' that starts specifics."""
    cut = torch_line.find(": ")
    return torch_line if cut < 0 else torch_line[:cut + 1]


_MODIFIED = re.compile(r"modified by an inplace operation: \[\w+\.(\w+ \[.*?\])\](, which is output \d+ of \w+,)? "
                       r"is at version (\d+); expected version (\d+) instead")


def modified_tensor(line):
    """What backward's "modified by an inplace operation" error says of the tensor: its type and shape, the node
    that made it, and its version now and when saved; None for other errors. All of it is compared."""
    found = _MODIFIED.search(line)
    return found and found.groups()


def _same_value(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        return bool(np.allclose(a.astype(np.float64), b.astype(np.float64), rtol=RTOL, atol=ATOL, equal_nan=True))
    return bool(np.array_equal(a, b))


def _identical(a, b):
    return (not isinstance(a, str) and not isinstance(b, str) and a.shape == b.shape
            and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))


def _show(value):
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=4, separator=", ").replace("\n", "")
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], np.ndarray):
        return f"{value[0]} {_show(value[1])}"
    return repr(value)


def _compare_tensor(name, g, t):
    for key in ("shape", "dtype", "requires_grad", "is_leaf", "retains_grad", "grad_fn", "graph"):
        if g[key] != t[key]:
            yield Difference(key, name, repr(g[key]), repr(t[key]))
    if not _same_value(g["value"], t["value"]):
        yield Difference("value", name, _show(g["value"]), _show(t["value"]))
    elif (_identical(g["value"], t["value"]) and g["repr"] != t["repr"]
          and all(g[key] == t[key] for key in ("dtype", "requires_grad", "grad_fn"))):   # else reported above
        yield Difference("repr", name, g["repr"], t["repr"])
    gg, tg = g["grad"], t["grad"]
    if (gg is None) != (tg is None) or isinstance(gg, str) or isinstance(tg, str):
        if gg != tg:
            yield Difference("grad", name, _show(gg), _show(tg))
    elif gg is not None and (gg[0] != tg[0] or not _same_value(gg[1], tg[1])):
        yield Difference("grad", name, _show(gg), _show(tg))


def differences(gradkit_trace, torch_trace):
    """Every way gradkit's run differs from torch's, in program order."""
    found = []
    for i, (g, t) in enumerate(zip(gradkit_trace.events, torch_trace.events)):
        where = f"statement {i + 1}"
        if g[0] != t[0]:
            found.append(Difference("error", where, f"{g[0]}: {g[1]}", f"{t[0]}: {t[1]}"))
        elif t[0] is not None:
            prefix = re.sub(r"\btorch\.", "gradkit.", _message_prefix(t[1]))
            if not g[1].startswith(prefix) or modified_tensor(g[1]) != modified_tensor(t[1]):
                found.append(Difference("error-message", where, g[1], t[1]))
        if [w.split(":")[0] for w in g[2]] != [w.split(":")[0] for w in t[2]]:
            found.append(Difference("warning", where, repr(g[2]), repr(t[2])))
    if sorted(gradkit_trace.hook_calls) != sorted(torch_trace.hook_calls):      # which hooks ran, how often
        found.append(Difference("hooks", "hooks", repr(gradkit_trace.hook_calls), repr(torch_trace.hook_calls)))
    for name in sorted(set(gradkit_trace.tensors) | set(torch_trace.tensors), key=lambda n: (len(n), n)):
        g, t = gradkit_trace.tensors.get(name), torch_trace.tensors.get(name)
        if g is None or t is None:
            found.append(Difference("missing", name, "tensor" if g else "absent", "tensor" if t else "absent"))
            continue
        found.extend(_compare_tensor(name, g, t))
    return found


# Most telling first: a program is grouped and shrunk by its most severe difference.
SEVERITY = ("error", "value", "grad", "hooks", "dtype", "shape", "requires_grad", "is_leaf", "retains_grad", "missing",
            "grad_fn", "graph", "warning", "error-message", "repr")


def primary(found):
    return min(found, key=lambda d: SEVERITY.index(d.kind))


def compare(program, gradkit, torch, quirks=()):
    """The differences between the two runs of ``program``, minus accepted torch quirks."""
    found = differences(run_program(program, gradkit), run_program(program, torch))
    return [d for d in found if not any(q.matches(d, program) for q in quirks)]


def shrink(program, gradkit, torch, quirks=()):
    """Drop statements while a difference of the same kind as the first one remains."""
    first = compare(program, gradkit, torch, quirks)
    if not first:
        return program, []
    kind = primary(first).kind
    changed = True
    while changed:
        changed = False
        for i in reversed(range(len(program))):
            candidate = program[:i] + program[i + 1:]
            found = compare(candidate, gradkit, torch, quirks)
            if any(d.kind == kind for d in found):
                program, changed = candidate, True
    return program, compare(program, gradkit, torch, quirks)
