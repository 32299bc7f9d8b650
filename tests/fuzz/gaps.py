"""gradkit bugs the fuzzer still finds: open work on issue 11, NOT accepted torch behaviour.

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
