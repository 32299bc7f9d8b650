"""Count what a fuzz campaign finds, difference by difference: accepted quirk, open gap, or unexplained.

The CI test only says whether anything is unexplained; this tells how much the quirks and gaps
are hiding, which is what the issue's "zero differences except documented quirks" is about.

    PYTHONPATH=$PWD:$PWD/tests python -m fuzz.census 0 3000        # seeds 0..2999
    PYTHONPATH=$PWD:$PWD/tests python -m fuzz.census 100000 2000 --show 20
"""
import argparse
import collections
import sys

from .campaign import signature
from .compare import differences, run_program
from .programs import as_source, generate


def classify(program, gradkit, torch, quirks, gaps):
    """Each difference of one program with what explains it: a quirk's name, a gap's name, or None."""
    found = differences(run_program(program, gradkit), run_program(program, torch))
    named = []
    for d in found:
        quirk = next((q.name for q in quirks if q.matches(d, program)), None)
        gap = next((g.name for g in gaps if g.matches(d, program)), None)
        named.append((d, ("quirk", quirk) if quirk else ("gap", gap) if gap else ("unexplained", None)))
    return named


def census(seeds, gradkit, torch, quirks, gaps):
    """Program counts per verdict (a program counts under its worst one) and per quirk/gap/signature."""
    programs = collections.Counter()
    by_name = collections.Counter()
    unexplained = collections.defaultdict(list)
    for seed in seeds:
        program = generate(seed, torch)
        named = classify(program, gradkit, torch, quirks, gaps)
        if not named:
            programs["same"] += 1
            continue
        programs["differing"] += 1
        verdicts = {v for _, (v, _) in named}
        worst = next(v for v in ("unexplained", "gap", "quirk") if v in verdicts)
        programs["worst: " + worst] += 1
        for name in {f"{v} {n}" for _, (v, n) in named if n}:
            by_name[name] += 1
        for d, (v, _) in named:
            if v == "unexplained":
                unexplained[signature(d, program)].append((seed, d))
    return programs, by_name, unexplained


def main(argv=None):
    import gradkit
    import torch
    from torch_quirks import QUIRKS
    from fuzz.gaps import GAPS

    parser = argparse.ArgumentParser()
    parser.add_argument("start", type=int)
    parser.add_argument("count", type=int)
    parser.add_argument("--show", type=int, default=0, help="print the first program of this many signatures")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)            # as tests/test_fuzz_torch.py: tiny tensors, and norms are slow on a pool
    programs, by_name, unexplained = census(range(args.start, args.start + args.count), gradkit, torch, QUIRKS, GAPS)
    print(f"seeds {args.start}..{args.start + args.count - 1}: {dict(programs)}")
    for name, n in by_name.most_common():
        print(f"  {n:5d} programs  {name}")
    print(f"unexplained: {sum(len(v) for v in unexplained.values())} differences, {len(unexplained)} signatures")
    for key, hits in sorted(unexplained.items(), key=lambda kv: -len(kv[1])):
        seeds = sorted({s for s, _ in hits})
        print(f"  {len(seeds):4d} programs {key!r:.150} seeds {seeds[:12]}")
        print(f"       {hits[0][1]!s:.300}")
    for key, hits in sorted(unexplained.items(), key=lambda kv: -len(kv[1]))[:args.show]:
        print("\n# " + repr(key)[:150] + "\n" + as_source(generate(hits[0][0], torch)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
