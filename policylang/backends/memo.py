"""Encode each rule once per policy: later runs of the same kind get a renamed copy, not a new walk.

The checker builds a fresh `Run` for almost every goal (a run's rules are named `prefix serial:rule`,
so no two goals share a variable), and re-encoding every rule the goal reads was half of
`policylang check`'s time. Two runs with the same prefix over the same inputs and state encode a
rule into the same terms up to those names, so `CachedRun` records what the first such run did
while it encoded the rule (the definitions it added, the table sites and the roundings it
recorded, the rules and brackets it read) and replays that into the next run with the names
substituted (`z3.substitute`, in Z3's C code). Z3 shares equal terms, so the replayed terms are
the very terms a fresh encoding would build, in the same order: the solver is asked exactly the
same questions (tests/test_check_speed.py compares every question with and without the cache).

What the copy cannot see it does not copy: a rule whose encoding changed anything else in the run
is encoded afresh in every run, as before.
"""
from __future__ import annotations

import z3

from policylang.backends.smt import V, Run

# what the cache records or replays; any other attribute a rule's encoding changes makes it encode afresh
_TRACKED = {"rules", "definitions", "sites", "roundings", "bracket_values", "guard", "named_ints", "_stack",
            "_naming", "_store", "_renamings", "_ints",
            "_named_asts", "_unnamed"}


class _Unit:
    """One rule's (or expression's) encoding in the run that first did it: its events, in order, and its value."""

    def __init__(self, run: "CachedRun", events: list, value: V, keep):
        self.run, self.events, self.value = run, events, value
        self.keep = keep  # the IR node whose id is the key: kept alive, so the id is never another node's


class _Store:
    """The rules encoded by the runs of one kind (prefix, inputs, state) in one check."""

    def __init__(self):
        self.units: dict = {}  # ("rule", name) or ("expr", id) -> _Unit, or None when it cannot be replayed
        self.named: dict = {}  # rule or bracket name -> (run, [events that name and define it])


class _Events(list):
    """A run's definitions or sites: what is added is also logged for the rule being encoded."""

    def __init__(self, run: "CachedRun", kind: str):
        super().__init__()
        self.run, self.kind = run, kind

    def append(self, item) -> None:
        super().append(item)
        self.run._log((self.kind, self.run._naming, item) if self.kind == "define" else (self.kind, item))


class _Logged(dict):
    """A run's roundings or bracket values, keyed by name: what is set is also logged."""

    def __init__(self, run: "CachedRun", kind: str):
        super().__init__()
        self.run, self.kind = run, kind

    def __setitem__(self, name, value) -> None:
        super().__setitem__(name, value)
        self.run._log((self.kind, name, value))


class CachedRun(Run):
    """A Run whose rule encodings are shared, renamed, with the earlier runs of the same kind."""

    enabled = True  # False: every rule encoded afresh (tests compare the two)

    def __init__(self, enc, prefix: str, state=None, shared=None, in_force_dates: bool = True):
        super().__init__(enc, prefix, state, shared, in_force_dates)
        self.named_ints: dict = {}  # rule or bracket name -> its Int of fen in this run
        self._stack: list = []  # the event lists of the rules being encoded, innermost last
        self._naming = None  # the name whose definition named() is adding
        self._renamings: dict = {}
        self._ints: dict = {}
        self._named_asts: list = []  # named_ints' terms as Z3 pointers, in order, for the renamings from this run
        self._unnamed = False
        self.definitions, self.sites = _Events(self, "define"), _Events(self, "site")
        self.roundings, self.bracket_values = _Logged(self, "rounding"), _Logged(self, "bracket")
        self._store = self._store_of_kind()

    def _store_of_kind(self) -> _Store:
        """The store of the runs with this prefix over these inputs and this state; the store keeps its runs
        alive, so the term ids in the key stay theirs."""
        kind = (self.prefix, self.in_force_dates, *[v.get_id() for v in self.inputs.values()],
                *[-1 if p is None else p.get_id() for p in self.present.values()],
                *[t.get_id() for t in self.state.values()], *[n.get_id() for n, _ in self.state_scaled.values()])
        stores = self.enc.__dict__.setdefault("_memo_stores", {})  # per policy (the Encoder), as long as it lives
        return stores.setdefault(kind, _Store())

    def own_state(self, name: str) -> None:
        """A state of its own is another kind of run: what was encoded over the shared state is not its own."""
        super().own_state(name)
        self._store = self._store_of_kind()

    def symbol(self, name: str, inp):
        """An input's symbol and its bounds are the same in every run with this prefix: built once per policy."""
        symbols = self.enc.__dict__.setdefault("_memo_symbols", {})
        key = (self.prefix, self.in_force_dates, name)
        if key in symbols and type(self).enabled:
            value, present, scaled, domain = symbols[key]
            if scaled is not None:
                self.scaled[name] = scaled
            self.domain += domain
            return value, present
        before, start = self._snapshot({"scaled", "domain"}), len(self.domain)
        value, present = Run.symbol(self, name, inp)
        if self._snapshot({"scaled", "domain"}) == before and key not in symbols:
            symbols[key] = (value, present, self.scaled.get(name), self.domain[start:])
        return value, present

    # ---- recording
    def _log(self, event) -> None:
        if self._stack:
            self._stack[-1].append(event)
        if event[0] in ("define", "rounding", "bracket"):  # a bracket's first encoding, replayable on its own
            name = event[1]
            first = self._store.named.setdefault(name, (self, []))
            if first[0] is self:
                first[1].append(event)

    def named(self, name: str, value: V) -> V:
        self._naming = name
        try:
            out = super().named(name, value)
        finally:
            self._naming = None
        n = self.definitions[-1].arg(0).arg(0)  # ToReal(n) == formula: n
        if n.decl().name() != f"{self.prefix}{self.serial}:{name}":
            self._unnamed = True  # named otherwise than the renaming expects: nothing is copied from this run
        self._add_named(name, n)
        return out

    def _add_named(self, name: str, n) -> None:
        self.named_ints[name] = n
        self._named_asts.append(n.as_ast())

    def brackets(self, e):
        value = super().brackets(e)
        if self._stack:
            self._stack[-1].append(("bracket-read", e.name))
        return value

    def rule(self, name: str) -> V:
        if self._stack:
            self._stack[-1].append(("rule", name))
        if name not in self.rules:
            value = self._unit(("rule", name), name, lambda: Run.rule(self, name))
            dict.__setitem__(self.rules, name, value)  # (a fresh encoding has set it already: same place)
        return self.rules[name]

    def expr(self, e):
        """An expression asked for on its own (a scope requirement, a constraint, a property, an update's
        amount, a branch condition) is shared like a rule; inside a rule, or under a guard, or next to
        the other side of a pair, it is encoded as always."""
        if self._stack or self.sides or not self.enabled or not z3.is_true(self.guard):
            return Run.expr(self, e)
        return self._unit(("expr", id(e)), e, lambda: Run.expr(self, e))

    def _unit(self, key, keep, encode):
        """The value of a rule or expression: replayed from the run that first encoded it, or encoded and recorded."""
        unit = self._store.units.get(key)
        if self.enabled and unit is not None:
            renaming = self._renaming(unit.run)
            if renaming is not None:
                self._stack.append([])  # what the replay adds belongs to the replayed unit, not to the caller
                try:
                    self._replay(unit.events, renaming)
                finally:
                    self._stack.pop()
                return renaming.value(unit.value)
        before = self._snapshot()
        self._stack.append([])
        try:
            value = encode()
        finally:
            events = self._stack.pop()
        if key not in self._store.units:
            self._store.units[key] = _Unit(self, events, value, keep) if self._snapshot() == before else None
        return value

    def _snapshot(self, also=frozenset()) -> dict:
        """Every attribute the cache does not replay (and those in `also`): what an encoding must leave alone."""
        return {k: (id(v), len(v) if hasattr(v, "__len__") else None) for k, v in vars(self).items()
                if k not in _TRACKED and k not in also}

    # ---- replaying
    def _replay(self, events: list, renaming: "_Renaming") -> None:
        for event in events:
            kind = event[0]
            if kind == "rule":
                self.rule(event[1])
            elif kind == "bracket-read":
                if event[1] not in self.bracket_values:
                    run, named = self._store.named[event[1]]
                    self._replay(named, self._renaming(run))
            elif kind == "define":
                name = event[1]
                if name not in self.named_ints:
                    self._add_named(name, self._int(name))
                    list.append(self.definitions, renaming(event[2]))
            elif kind == "site":
                e, guard, args = event[1]
                list.append(self.sites, (e, renaming(guard), [renaming.value(a) for a in args]))
            elif kind == "rounding":
                if event[1] not in self.roundings:
                    dict.__setitem__(self.roundings, event[1], tuple(renaming(t) if isinstance(t, z3.ExprRef) else t
                                                                     for t in event[2]))
            elif kind == "bracket":
                if event[1] not in self.bracket_values:
                    dict.__setitem__(self.bracket_values, event[1], renaming.value(event[2]))

    def _renaming(self, run: "CachedRun") -> "_Renaming | None":
        if run is self:
            return _SAME
        key = (id(run), len(run.named_ints))
        if key not in self._renamings:
            self._renamings[key] = _Renaming.between(run, self)
        return self._renamings[key]

    def _int(self, name: str):
        """The Int that named() gives `name` in this run."""
        if name not in self._ints:
            self._ints[name] = z3.Int(f"{self.prefix}{self.serial}:{name}")
        return self._ints[name]


class _Renaming:
    """A recording run's rule names → this run's, applied with one z3.substitute call per term."""

    def __init__(self, ctx, sources: list, targets: list):
        self.ctx, self.count = ctx, len(sources)
        self.sources = (z3.Ast * self.count)(*sources)
        self.replacements = (z3.Ast * self.count)(*targets)

    @classmethod
    def between(cls, source: CachedRun, target: CachedRun) -> "_Renaming | None":
        if source._unnamed:
            return None  # encode afresh
        return cls(z3.main_ctx(), source._named_asts, [target._int(name).as_ast() for name in source.named_ints])

    def __call__(self, term):
        if not self.count:
            return term
        return z3.z3._to_expr_ref(z3.Z3_substitute(self.ctx.ref(), term.as_ast(), self.count, self.sources,
                                                self.replacements), self.ctx)

    def value(self, v: V) -> V:
        return V(self(v.v), self(v.na), self(v.why))


_SAME = _Renaming(None, [], [])  # a run replaying what it recorded itself
