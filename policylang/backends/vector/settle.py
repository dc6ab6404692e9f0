"""Every claim of a person-year at once: guess each claim's year-to-date, evaluate, keep what was right.

Why: the rank passes take as many rounds of numpy calls as the busiest person has claims in a year (a
dialysis patient some 150, a pharmacy regular several hundred). Here each round evaluates every unsettled
claim at once, from a guessed year-to-date. A claim is *settled* when the claim before it in its
person-year is settled and left exactly the total (value and reason) that was guessed for it; the first
unsettled claim of a person-year always is, because its guess is the total the settled claims left (the
initial value at first). By induction a settled claim was evaluated from its true year-to-date, so its
results are the rank passes' and the interpreter's, whatever the policy's rules.

A new guess adds to the last settled total the changes the round computed for the claims before (a
Jacobi step). A capped running total (paid = min(due, cap − used)) then settles in three rounds: the
first claim of each tail, the claims up to the one that reaches the cap, the rest; that is the
closed form `min(cap, after) − min(cap, before)` found by evaluation instead of by pattern. Each round
settles at least the first unsettled claim of every person-year, and after ROUNDS rounds what is left goes
through the rank passes, from the totals the settled claims left: a claim is evaluated at most ROUNDS
times in rounds, then once in a rank pass if it is still unsettled.
"""
from __future__ import annotations

import numpy as np

from policylang.backends.vector.passes import Hoisted, Results, bounded, evaluate, ranked
from policylang.backends.vector.values import Reasons

ROUNDS = 4  # rounds before the rest goes to the rank passes (a capped total needs three)
RANKED = 8  # ranks the rank passes take before the rounds do (a pass's fixed cost is then shared)


def run(plan, res: Results, rows: np.ndarray, group: np.ndarray, rank: np.ndarray, inputs: dict,
        reasons: Reasons, free: Hoisted) -> None:
    """Evaluate the sorted rows (each person-year's claims together, in order; `group` numbers the
    person-years) into `res`: the first RANKED claims of every person-year by the rank passes (each pass is
    wide there, so a pass costs what its rows cost), the longer years' tails by rounds of guess and check.
    Policies whose year-to-date is kept per key or counted once use the rank passes only (passes.run)."""
    names = list(plan.policy.accumulators)
    groups = int(group.max()) + 1
    state = {name: [np.full(groups, plan.acc_initial[name], dtype=np.int64), np.zeros(groups, dtype=np.int32)]
             for name in names}
    head = np.flatnonzero(rank < RANKED)
    whole = len(head) == len(rows)  # no year longer than RANKED
    ranked(plan, res, rows[head], rank[head], {name: group[head] for name in names}, {}, state, {}, inputs,
           reasons, free, None if whole else head)
    todo = np.flatnonzero(rank >= RANKED)  # positions in `rows`; always the tail of each person-year's claims
    guess = {name: (state[name][0][group[todo]], state[name][1][group[todo]]) for name in names}
    for _ in range(ROUNDS):
        if not len(todo):
            return
        after = evaluate(plan, res, rows[todo], guess, inputs, reasons, free.at(todo))
        first = _run_starts(group[todo])
        settled = _settled(guess, after, first)
        for name in names:
            value, na = after[name]
            bounded(plan, name, value[settled], na[settled])
            for when, (v, n) in (("before", guess[name]), ("after", after[name])):
                res.state[(name, when)][0][rows[todo]] = v
                res.state[(name, when)][1][rows[todo]] = n
        guess = _next_guess(plan, guess, after, first, settled)
        todo = todo[~settled]
    _rank_rest(plan, res, rows[todo], group[todo], rank[todo], guess, inputs, reasons, free, todo)


def _run_starts(group: np.ndarray) -> np.ndarray:
    first = np.ones(len(group), dtype=bool)
    first[1:] = group[1:] != group[:-1]
    return first


def _settled(guess: dict, after: dict, first: np.ndarray) -> np.ndarray:
    """Per evaluated claim: it and every claim before it in its run started from the total the previous
    claim left (a run's first claim did: its guess is a settled total)."""
    match = first.copy()
    match[1:] |= np.logical_and.reduce([(guess[name][0][1:] == after[name][0][:-1])
                                        & (guess[name][1][1:] == after[name][1][:-1]) for name in guess])
    misses = np.cumsum(~match)
    return misses == misses[np.flatnonzero(first)][np.cumsum(first) - 1]


def _next_guess(plan, guess: dict, after: dict, first: np.ndarray, settled: np.ndarray) -> dict:
    """For the unsettled claims (each run's tail from its first miss): the total the last settled claim
    left, plus the changes this round computed for the unsettled claims before (value); its reason (a total
    that is unknown stays unknown). Clipped to the plan's bound, so the rules' arithmetic stays in int64;
    a clipped guess is only a worse guess, which the next round's check finds."""
    rest = np.flatnonzero(~settled)
    start = np.ones(len(rest), dtype=bool)
    start[1:] = (rest[1:] != rest[:-1] + 1) | first[rest[1:]]
    base = np.repeat(rest[start] - 1, np.diff(np.append(np.flatnonzero(start), len(rest))))
    room = (1 << 62) // max(len(rest), 1)  # no running sum of changes can wrap, whatever the batch size
    out = {}
    for name in guess:
        change = np.clip(after[name][0][rest] - guess[name][0][rest], -room, room)
        total = np.cumsum(change) - change
        total -= total[np.flatnonzero(start)][np.cumsum(start) - 1]
        value = after[name][0][base] + total
        bound = plan.acc_bound[name]
        out[name] = (np.clip(value, -bound, bound), after[name][1][base].copy())
    return out


def _rank_rest(plan, res: Results, rows: np.ndarray, group: np.ndarray, rank: np.ndarray, guess: dict,
               inputs: dict, reasons: Reasons, free: Hoisted, at: np.ndarray) -> None:
    """What ROUNDS rounds left: the rank passes over each person-year's tail, from the settled total before
    it (the guess of a tail's first claim is exactly that). `at`: where the rows are in `free`."""
    if not len(rows):
        return
    first = _run_starts(group)
    tail = np.cumsum(first) - 1
    rank = rank - rank[first][tail]
    state = {name: [guess[name][0][first].copy(), guess[name][1][first].copy()] for name in guess}
    where = {name: tail for name in guess}
    ranked(plan, res, rows, rank, where, {}, state, {}, inputs, reasons, free, at)
