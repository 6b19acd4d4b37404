"""The quick check's fields, derived from the rule tables (spec/assessment.md, "Likely tier, next tier, and what
is left to confirm"): a firm answering them gets every figure-based criterion of innovative SME, SRDI SME and
little giant decided under SME-2026, and as many under SME-2022 as a few more fields allow."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from tests.factories import make_profile, make_profiles
from webapp import fields
from webapp.engine.assess import assess
from webapp.engine.rules.criteria import UNKNOWN
from webapp.engine.rules.quick import QUICK_TIERS, is_soft
from webapp.engine.rules.rulebook import load_rule_book

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
BOOK = load_rule_book()
QUICK = BOOK.quick_fields
DECLARATIONS = [s.name for s in fields.REGISTRY if s.self_declared]
# SME-2022 hard requirements the quick fields decide (the 13-indicator SRDI score S22-H4 does not fit).
SME_2022_DECIDED = ["E2", "I-PASS", "S22-H1", "S22-H2", "S22-H3", "G22-1", "G22-4"]


def _firms() -> pd.DataFrame:
    """Complete profiles: random valid firms, the factory's firm, the shipped examples, and random firms
    that hold no title, route or higher IP class (so that every branch of the rules is reached)."""
    examples = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]
    bare = dict(title_innovative=False, title_tech_sme=False, title_srdi=False, hnte=False,
                tech_innovation_demo=False, ip_advantage=False, award_level="none", rd_institution="none",
                equity_financing_2y=0.0, equity_financing_3y=0.0, class1_ip_self=0, class1_ip_high_value=0)
    frame = pd.concat([make_profiles(300, seed=11), pd.DataFrame([make_profile(), *examples]),
                       make_profiles(150, seed=12, **bare),
                       make_profiles(150, seed=13, **bare, class1_ip=0, class1_ip_applied=0)], ignore_index=True)
    return frame.astype(object)


def _only(frame: pd.DataFrame, keep) -> pd.DataFrame:
    return frame.drop(columns=[c for c in frame.columns if c not in set(keep)])


def _open(assessment, cid: str) -> np.ndarray:
    """Per firm, True when criterion ``cid`` is unknown or (scored) its points range is open."""
    res = assessment.judge.criteria[cid]
    open_ = res.status == UNKNOWN
    if res.points_lo is not None:
        open_ = open_ | (res.points_lo != res.points_hi)
    return open_


def _undecided(assessment, cids) -> dict[str, int]:
    """Per criterion, how many firms have it open (see :func:`_open`); only the open ones."""
    counts = {cid: int(_open(assessment, cid).sum()) for cid in cids}
    return {cid: k for cid, k in counts.items() if k}


def _figure_criteria(rules: str) -> list[str]:
    """Hard, scored and route criteria of the quick tiers that are neither self-declared, advisory nor
    manual; with every scored indicator of their scores (a pass rule needs the whole score)."""
    rs = BOOK.select(rules)
    out = []
    for tid in QUICK_TIERS:
        tier = rs.tiers[tid]
        out += [c for c in (*tier.criteria, *tier.score) if not is_soft(rs.criteria[c]) or c in tier.score]
    return list(dict.fromkeys(out))


def test_quick_fields_are_registry_fields_in_registry_order():
    order = [s.name for s in fields.REGISTRY]
    assert list(QUICK) == [n for n in order if n in set(QUICK)]
    assert {"firm_name", "province"} <= set(QUICK)
    assert not set(QUICK) & {s.name for s in fields.REGISTRY if s.self_declared and s.kind == "bool"
                             and s.name != "strategic_emerging"}  # declarations are confirmed later


def test_sme_2026_every_figure_decided_from_quick_fields_and_declarations():
    """Quick fields plus the declarations decide every figure-based criterion and score under SME-2026."""
    firms = _firms()
    a = assess(_only(firms, [*QUICK, *DECLARATIONS]), rules="SME-2026", cohorts=False, model=False)
    assert not len(a.errors)
    assert _undecided(a, _figure_criteria("SME-2026")) == {}


def test_sme_2026_quick_fields_alone_leave_only_declarations():
    """With the quick fields alone, a figure-based criterion is open only where it rests on a lower tier that
    waits for declarations (a title prerequisite); the tier is then conditional, never missing a figure."""
    firms = _firms()
    a = assess(_only(firms, QUICK), rules="SME-2026", cohorts=False, model=False)
    rs = a.ruleset
    open_ = _undecided(a, _figure_criteria("SME-2026"))
    assert set(open_) <= {c for c in rs.criteria if rs.criteria[c].eligible}
    cond = a.conditional()
    for tid in QUICK_TIERS:
        unknown = a.judge.tiers[tid].status == UNKNOWN
        # every unknown tier that is not conditional is failing somewhere else or waiting on a declaration
        for i in np.flatnonzero(unknown & ~cond[tid]):
            crits = [c for c in rs.tiers[tid].criteria if a.judge.criteria[c].status[i] == UNKNOWN]
            assert all(is_soft(rs.criteria[c]) or rs.criteria[c].eligible for c in crits), (tid, i, crits)


def test_sme_2022_hard_requirements_that_fit_are_decided():
    """Under SME-2022 the quick fields decide the size test, the innovative-SME pass rule, the SRDI hard
    thresholds and the little-giant growth and R&D routes; the 13-indicator SRDI score needs the full form."""
    firms = _firms()
    a = assess(_only(firms, [*QUICK, *DECLARATIONS]), rules="SME-2022", cohorts=False, model=False)
    assert _undecided(a, SME_2022_DECIDED) == {}
    assert _undecided(a, ["S22-H4"])  # honest: not everything fits


def test_every_derived_field_is_needed():
    """Dropping any one rule-derived quick field leaves some firm with a figure-based criterion (or score)
    undecided, under one of the two rule sets."""
    firms = _firms()
    derived = [n for n in QUICK if not fields.FIELDS[n].quick]
    needed = set()
    for rules in ("SME-2026", "SME-2022"):
        cids = _figure_criteria(rules) if rules == "SME-2026" else SME_2022_DECIDED
        frames = [_only(firms, [*QUICK, *DECLARATIONS]).drop(columns=[name]) for name in derived]
        a = assess(pd.concat(frames, ignore_index=True), rules=rules, cohorts=False, model=False)
        open_ = np.logical_or.reduce([_open(a, c) for c in cids])
        n = len(firms)
        needed |= {name for k, name in enumerate(derived) if open_[k * n:(k + 1) * n].any()}
    assert needed == set(derived)
