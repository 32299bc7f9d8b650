"""gradkit bugs the fuzzer still finds: open work on issue 11, NOT accepted torch behaviour.

None is open today: the 57 gaps the fuzzer found during issue 11 are fixed, each with tests
comparing gradkit with torch (a 58th, the memory layout of summed gradients, moved to
tests/torch_quirks.py as a torch implementation detail).

Unlike tests/torch_quirks.py (torch details gradkit deliberately does not copy), each gap
here is a place where gradkit is wrong. The fuzz test leaves matching differences out so
that any NEW difference fails CI at once; `test_each_open_gap_still_differs` runs every
gap's repro on both libraries and fails as soon as one is fixed, so this list only shrinks.
"""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Gap:
    name: str
    what: str
    repro: str                       # a minimal program (gk = gradkit or torch) that still differs
    test: Callable                   # test(difference, program) -> bool

    def matches(self, difference, program):
        return self.test(difference, program)


GAPS = []
