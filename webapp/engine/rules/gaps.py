"""Gaps: for a criterion that is not met or unknown, what is short, by how much, and what is missing."""

from __future__ import annotations

import ast
import math

import numpy as np

from webapp import fields
from webapp.engine.rules.criteria import Judge
from webapp.engine.rules.expressions import FUNCTIONS, Expression, status_codes
from webapp.engine.rules.levers import LeverSolver
from webapp.engine.rules.rulebook import Criterion
from webapp.engine.rules.status import MET

# Per rule book's metrics (by id, kept with them): the input fields behind each set of names and the static
# parts of each condition's description (by node id, kept with the node), worked out once.
_INPUTS: dict[int, tuple[dict, dict[frozenset[str], list[str]], dict[int, tuple]]] = {}
_FLAG_COST = 1000  # failing atoms a flag counts for, so that any branch of figures is explained first
_OPS = {ast.GtE: ">=", ast.Gt: ">", ast.LtE: "<=", ast.Lt: "<", ast.Eq: "==", ast.NotEq: "!=",
        ast.In: "in", ast.NotIn: "not in"}


class GapFinder:
    """Explain unmet criteria of one judged frame, atom by atom (vectorised per atom)."""

    def __init__(self, judge: Judge):
        self.judge = judge
        self.env = judge.env
        self.metrics = judge.ruleset.metrics
        self._atom_cache: dict = {}
        kept = _INPUTS.get(id(self.metrics))
        if kept is None or kept[0] is not self.metrics:
            if len(_INPUTS) >= 8:  # many rule books in one process (tests): start again
                _INPUTS.clear()
            kept = _INPUTS[id(self.metrics)] = (self.metrics, {}, {})
        self._inputs: dict[frozenset[str], list[str]] = kept[1]   # shared by the finders of one rule book
        self._statics: dict[int, tuple] = kept[2]                   # so are the conditions' static parts
        self._missing_one: dict[frozenset[str], list[str]] = {}
        self._atoms_of: dict[int, tuple] = {}
        self._one = judge.n == 1   # one firm: atoms are worked out in Python scalars, not arrays of one
        self._levers: dict[tuple[str, float], np.ndarray] = {}
        self._solver = LeverSolver(self.metrics, self._point)

    # -- inputs
    def inputs_of(self, names) -> list[str]:
        """Raw input fields behind names (expanding derived metrics), in first-seen order."""
        key = frozenset(names)
        found = self._inputs.get(key)
        if found is None:
            found = self._inputs[key] = self._inputs_of(key)
        return found

    def _inputs_of(self, names) -> list[str]:
        out: list[str] = []
        for name in sorted(names):
            if name in self.metrics:
                out += [f for f in self.inputs_of(self.metrics[name].expr.names) if f not in out]
            elif name in fields.FIELDS and name not in out:
                out.append(name)
        return out

    def missing(self, names, i: int) -> list[str]:
        """Input fields behind ``names`` that are unknown for firm ``i``."""
        if self._one:
            key = frozenset(names)
            found = self._missing_one.get(key)
            if found is None:
                found = self._missing_one[key] = [f for f in self.inputs_of(key) if self._unknown_one(f)]
            return list(found)
        return [f for f in self.inputs_of(names) if self._unknown(f)[i]]

    def _cached(self, kind: str, obj, make):
        """``make()`` once per (kind, object); the object is kept with the value, so its id stays its own."""
        key = (kind, id(obj))
        entry = self._atom_cache.get(key)
        if entry is None or entry[0] is not obj:
            entry = self._atom_cache[key] = (obj, make())
        return entry[1]

    def _unknown(self, name: str) -> np.ndarray:
        """True for firms whose input ``name`` is unknown."""
        enums = self.env.evaluator.enums
        return self._cached("unknown", name, lambda: enums[name][0] < 0 if name in enums
                            else np.isnan(self.env.point(name)))

    def _unknown_one(self, name: str) -> bool:
        """For one firm, whether its input ``name`` is unknown (:meth:`_unknown` without arrays)."""
        enums = self.env.evaluator.enums
        if name in enums:
            return bool(enums[name][0][0] < 0)
        lo, hi = self.env.scalar(name)
        return not lo == hi or lo != lo

    def _node(self, node: ast.expr) -> tuple[str, frozenset[str]]:
        """The text of a condition and the names in it (worked out once per node of the rule tables: kept on it)."""
        info = getattr(node, "_gap_text", None)
        if info is None:
            info = node._gap_text = (ast.unparse(node), _names(node))
        return info

    # -- atoms
    def _status(self, node: ast.expr) -> np.ndarray:
        def make():
            text, names = self._node(node)
            return status_codes(self.env.evaluator.evaluate(Expression(text=text, tree=node, names=names)))
        return self._cached("status", node, make)

    def atoms(self, node: ast.expr) -> tuple[np.ndarray, list[tuple[ast.expr, np.ndarray]]]:
        """Cost (failing atoms) and the atoms to report, choosing the closest branch of each ``or``; worked out
        for every firm once per expression."""
        if self._one:  # one firm: a plain dict by node id (kept with the node), no closure per call
            entry = self._atoms_of.get(id(node))
            if entry is None or entry[0] is not node:
                entry = self._atoms_of[id(node)] = (node, self._atoms_one(node))
            return entry[1]
        return self._cached("atoms", node, lambda: self._atoms(node))

    def _atoms(self, node: ast.expr) -> tuple[np.ndarray, list[tuple[ast.expr, np.ndarray]]]:
        if isinstance(node, ast.BoolOp):
            parts = [self.atoms(v) for v in node.values]
            if isinstance(node.op, ast.And):
                return np.sum([p[0] for p in parts], axis=0), [a for p in parts for a in p[1]]
            costs = np.vstack([p[0] for p in parts])
            chosen = np.argmin(costs, axis=0)
            items = [(a, m & (chosen == j)) for j, p in enumerate(parts) for a, m in p[1]]
            return costs.min(axis=0), items
        if isinstance(node, ast.Constant):
            return np.zeros(self.judge.n, dtype=int), []
        if isinstance(node, ast.Name) and node.id in self.env.flags:
            # The assessment mode (a re-review) is not a figure the firm can change: never reported, and a
            # branch that needs it is the last one chosen (G26-2 explains the revenue CAGR, not the mode).
            return np.where(self._status(node) != MET, _FLAG_COST, 0), []
        status = self._status(node)
        fail = status != MET
        return fail.astype(int), [(node, fail)]

    def _atoms_one(self, node: ast.expr) -> tuple[int, list[tuple[ast.expr, bool]]]:
        """:meth:`_atoms` for one firm, in Python scalars: the cost and, per atom, whether to report it."""
        if isinstance(node, ast.BoolOp):
            parts = [self.atoms(v) for v in node.values]
            if isinstance(node.op, ast.And):
                return sum(p[0] for p in parts), [a for p in parts for a in p[1]]
            costs = [p[0] for p in parts]
            chosen = costs.index(min(costs))   # the first cheapest branch, as argmin
            return costs[chosen], [(a, m and j == chosen) for j, p in enumerate(parts) for a, m in p[1]]
        if isinstance(node, ast.Constant):
            return 0, []
        fail = self._fails_one(node)
        if isinstance(node, ast.Name) and node.id in self.env.flags:
            return (_FLAG_COST if fail else 0), []
        return int(fail), [(node, fail)]

    def _fails_one(self, node: ast.expr) -> bool:
        """For one firm, whether condition ``node`` is not met (its status is not MET)."""
        pair = self.env.evaluator.evaluate_scalar(node)
        if pair is None:
            return bool(self._status(node)[0] != MET)
        return not pair[0] >= 1

    def describe_atom(self, node: ast.expr, i: int) -> dict:
        """One unmet condition for firm ``i``: metric, operator, threshold, value, distance, lever."""
        text, names = self._node(node)
        item: dict = {"condition": text}
        item["missing"] = self.missing(names, i)
        kind, name, op, threshold, labels = self._described(node)
        if kind == "number":
            value = _num(self.env.point(name)[i]) if name not in self.env.evaluator.enums else None
            item.update(metric=name, op=op, threshold=threshold, value=value, unit=self.unit(name),
                        direction=direction(op), **labels)
            if value is not None:
                dist = threshold - value if op in (">=", ">") else value - threshold
                item["distance"] = max(dist, 0.0)
                lever = self.lever(name, threshold, i) if op in (">=", ">") else None
                if lever:
                    item["lever"] = lever
        elif kind == "enum":
            codes, choices = self.env.evaluator.enums[name]
            item.update(metric=name, op=op, threshold=list(threshold), direction="not_equal",
                        value=None if codes[i] < 0 else choices[codes[i]], unit="enum", **labels)
        elif kind == "name":
            item.update(metric=name, op="==", threshold=1.0, value=_num(self.env.point(name)[i]),
                        unit="bool", direction="not_equal", **labels)
        return item

    def _described(self, node: ast.expr) -> tuple:
        """What :meth:`describe_atom` reads of a condition whatever the firm (worked out once per node and rule
        book): its kind (``number``, ``enum``, ``name`` or ``other``), metric, operator, threshold, labels."""
        entry = self._statics.get(id(node))
        if entry is not None and entry[0] is node:
            return entry[1]
        out: tuple = ("other", None, None, None, None)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.left, ast.Name) \
                and isinstance(node.comparators[0], ast.Constant) \
                and isinstance(node.comparators[0].value, int | float):
            name = node.left.id
            out = ("number", name, _OPS[type(node.ops[0])], float(node.comparators[0].value), self.labels(name))
        elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) \
                and node.left.id in self.env.evaluator.enums:
            name = node.left.id
            right = node.comparators[0]
            classes = [e.value for e in right.elts] if isinstance(right, ast.Tuple | ast.List) else [right.value]
            out = ("enum", name, _OPS[type(node.ops[0])], tuple(classes), self.labels(name))
        elif isinstance(node, ast.Name):
            out = ("name", node.id, None, None, self.labels(node.id))
        self._statics[id(node)] = (node, out)
        return out

    def labels(self, name: str) -> dict:
        """zh/en labels of a field or metric."""
        if name in self.metrics:
            return {"label_zh": self.metrics[name].name_zh, "label_en": self.metrics[name].name_en}
        if name in fields.FIELDS:
            return {"label_zh": fields.label(name, "zh"), "label_en": fields.label(name, "en")}
        return {"label_zh": name, "label_en": name}

    def unit(self, name: str) -> str:
        """Unit code of a field or metric: wan, ratio, pct, count, years, points, bool, ''."""
        if name in self.metrics:
            return self.metrics[name].unit
        spec = fields.FIELDS.get(name)
        if spec is None:
            return ""
        return {"money": "wan", "pct": "pct", "count": "count", "bool": "bool"}.get(spec.kind, "number")

    def lever(self, metric: str, threshold: float, i: int) -> dict | None:
        """How much of the metric's lever field firm ``i`` needs to reach ``threshold`` (closed form, solved
        for every firm at once by :class:`webapp.engine.rules.levers.LeverSolver`)."""
        m = self.metrics.get(metric)
        if m is None or not m.lever:
            return None
        amount = float(self.lever_amounts(metric, threshold)[i])
        if math.isnan(amount):
            return None
        if fields.FIELDS[m.lever].integer:
            amount = float(math.ceil(amount - 1e-9))
        return {"field": m.lever, "amount": round(amount, 4), "unit": self.unit(m.lever)}

    def lever_amounts(self, metric: str, threshold: float) -> np.ndarray:
        """Per firm, the rise of ``metric``'s lever field that brings it to ``threshold``; NaN where none
        (an unknown input, the threshold already reached, or a lever that cannot get there)."""
        key = (metric, float(threshold))
        if key not in self._levers:
            m = self.metrics[metric]
            if self._one:  # one firm: the same solution in floats
                known = not any(math.isnan(self.env.point(f)[0]) for f in self.inputs_of(m.expr.names))
                amount = self._solver.amount_one(metric, threshold, float(self.env.point(m.lever)[0]),
                                                 float(self.env.point(metric)[0])) if known else math.nan
                self._levers[key] = np.array([amount])
                return self._levers[key]
            known = np.ones(self.judge.n, dtype=bool)
            for f in self.inputs_of(m.expr.names):
                known &= ~np.isnan(self.env.point(f))
            amounts = self._solver.amounts(metric, threshold, self.env.point(m.lever), self.env.point(metric))
            self._levers[key] = np.where(known, amounts, np.nan)
        return self._levers[key]

    def _evaluate(self, expr: Expression):
        """The interval of a rule expression for every firm, evaluated once."""
        return self._cached("expr", expr, lambda: self.env.evaluator.evaluate(expr))

    def _point(self, node: ast.expr) -> np.ndarray:
        """The value per firm of a sub-expression (NaN where unknown), as the judge evaluates it."""
        def make():
            text, names = self._node(node)
            return self.env.evaluator.evaluate(Expression(text=text, tree=node, names=names)).point()
        return self._cached("point", node, make)

    # -- criteria
    def gap(self, crit: Criterion, i: int) -> dict | None:
        """The gap of criterion ``crit`` for firm ``i``; None when it is met or advisory.

        Each form measures its own gap (:meth:`webapp.engine.rules.forms.CriterionForm.gap`) with the
        helpers below.
        """
        return crit.handler.gap(self, crit, i)

    def expression_gap(self, expressions: list[Expression], i: int) -> dict:
        """The failing atoms of ``expressions`` for firm ``i`` and the inputs they miss.

        Parameters
        ----------
        expressions : list of Expression
            What the criterion tests.
        i : int
            Position of the firm.

        Returns
        -------
        dict
            ``items`` (one per failing atom, see :meth:`describe_atom`) and ``missing`` (unknown inputs).
        """
        items, names = [], set()
        for expr in expressions:
            names |= expr.names
            _, atoms = self.atoms(expr.tree)
            items += [self.describe_atom(a, i) for a, mask in atoms if (mask if self._one else mask[i])]
        return {"items": items, "missing": self.missing(names, i)}

    def scored_gap(self, crit: Criterion, i: int, res) -> dict | None:
        """Points short of the maximum for firm ``i`` and the next bracket edge of each metric (None at full)."""
        lo = float(res.points_lo[i])
        if lo >= crit.max_points:
            return None
        names = set().union(*[e.names for e in crit.expressions()])
        out = {"items": [], "missing": self.missing(names, i), "points_to_gain": crit.max_points - lo}
        for b in crit.options:
            value = self._evaluate(b.metric)
            if value.lo[i] != value.hi[i] or not isinstance(b.metric.tree, ast.Name):
                continue
            v, name = float(value.lo[i]), b.metric.tree.id
            better = [(e, p) for e, p in zip(b.edges, b.points) if p > lo]
            if not better:
                continue
            edge, pts = (min(better) if not b.at_most else max(better))
            op = "<=" if b.at_most else ">="
            item = {"condition": f"{name} {op} {edge:g}", "metric": name, "op": op, "threshold": edge,
                    "value": v, "unit": self.unit(name), "points": pts, "missing": [], **self.labels(name),
                    "direction": direction(op),
                    "distance": max(v - edge if b.at_most else edge - v, 0.0)}
            lever = None if b.at_most else self.lever(name, edge, i)
            if lever:
                item["lever"] = lever
            out["items"].append(item)
        return out


def direction(op: str) -> str:
    """Which way a gap runs: ``below_min`` (the value must rise), ``above_max`` (it must fall), ``not_equal``."""
    if op in (">=", ">"):
        return "below_min"
    if op in ("<=", "<"):
        return "above_max"
    return "not_equal"


def _names(node: ast.expr) -> frozenset[str]:
    return frozenset(n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                     and n.id not in FUNCTIONS)


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f
