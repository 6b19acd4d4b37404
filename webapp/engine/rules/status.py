"""Three-valued statuses and the vectorised result of one criterion: codes, Kleene logic, bracket points.

The lowest piece of judging: the criterion forms (:mod:`webapp.engine.rules.forms`), the judge and the gap
finder all build on it, and it imports nothing of the rules package but the expression language and the
bracket table it scores.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from webapp.engine.rules.intervals import Interval, _tol, status_codes
from webapp.engine.rules.parts import Brackets

MET, NOT_MET, UNKNOWN = 1, 0, -1
STATUS_NAMES = np.array(["unknown", "not_met", "met"], dtype=object)  # index = code + 1
VIA_NAMES = (None, "held", "eligible")


@dataclass
class CriterionResult:
    """Vectorised result of one criterion: status codes, points range, deciding route."""

    status: np.ndarray                      # int8: 1 met, 0 not met, -1 unknown
    points_lo: np.ndarray | None = None
    points_hi: np.ndarray | None = None
    route: np.ndarray | None = None         # int16 index into the criterion's routes, -1 none
    via: np.ndarray | None = None           # int8 index into VIA_NAMES


def status_names(codes: np.ndarray) -> np.ndarray:
    """Map status codes to 'met' / 'not_met' / 'unknown'.

    Parameters
    ----------
    codes : numpy.ndarray
        Status codes (1, 0, -1).

    Returns
    -------
    numpy.ndarray
        Object array of the names.
    """
    return STATUS_NAMES[np.asarray(codes, dtype=np.int64) + 1]


def status_name(code) -> str:
    """The name of one status code: 'met', 'not_met' or 'unknown'.

    Parameters
    ----------
    code : int or numpy integer
        A status code (1, 0, -1).

    Returns
    -------
    str
    """
    return {MET: "met", NOT_MET: "not_met", UNKNOWN: "unknown"}[int(code)]


_RANK = np.array([1, 0, 2], dtype=np.int8)                   # by status + 1: unknown, not met, met
_UNRANK = np.array([NOT_MET, UNKNOWN, MET], dtype=np.int8)  # by rank


def _rank(status: np.ndarray) -> np.ndarray:
    """not met < unknown < met, as 0 < 1 < 2, so Kleene AND is min and OR is max."""
    return _RANK[np.asarray(status, dtype=np.int64) + 1]


def _unrank(rank: np.ndarray) -> np.ndarray:
    return _UNRANK[rank]


_ONE_RANK = {NOT_MET: 0, UNKNOWN: 1, MET: 2}   # _rank for one status code
_ONE_UNRANK = (NOT_MET, UNKNOWN, MET)


def kleene_and(statuses: list[np.ndarray]) -> np.ndarray:
    """Kleene AND of status-code arrays.

    Parameters
    ----------
    statuses : list of numpy.ndarray
        At least one array of status codes, all of one length.

    Returns
    -------
    numpy.ndarray
        int8 status codes.
    """
    if not statuses:
        raise ValueError("kleene_and needs at least one operand")
    if len(statuses[0]) == 1:  # one firm: in Python, without an array per step
        return np.array([_ONE_UNRANK[min(_ONE_RANK[s[0]] for s in statuses)]], dtype=np.int8)
    return _unrank(functools.reduce(np.minimum, [_rank(s) for s in statuses]))


def kleene_or(statuses: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Kleene OR of status-code arrays, with the index of the first met operand (-1 when none).

    Parameters
    ----------
    statuses : list of numpy.ndarray
        At least one array of status codes, all of one length.

    Returns
    -------
    tuple of numpy.ndarray
        int8 status codes and int16 index of the first met operand.
    """
    if len(statuses[0]) == 1:  # one firm: in Python, without an array per step
        codes = [s[0] for s in statuses]
        met = [j for j, c in enumerate(codes) if c == MET]
        return (np.array([_ONE_UNRANK[max(_ONE_RANK[c] for c in codes)]], dtype=np.int8),
                np.array([met[0] if met else -1], dtype=np.int16))
    status = _unrank(functools.reduce(np.maximum, [_rank(s) for s in statuses]))
    route = np.full(status.shape, -1, dtype=np.int16)
    for j in range(len(statuses) - 1, -1, -1):
        route = np.where(statuses[j] == MET, j, route).astype(np.int16)
    return status, route


def scored_status(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Status of a points range: unknown when open, met when it scores, else not met.

    Parameters
    ----------
    lo, hi : numpy.ndarray
        Lowest and highest points reachable.

    Returns
    -------
    numpy.ndarray
        int8 status codes.
    """
    if len(lo) == 1:  # one firm
        a, b = lo[0], hi[0]
        return np.array([UNKNOWN if a != b else MET if a > 0 else NOT_MET], dtype=np.int8)
    return np.where(lo != hi, UNKNOWN, np.where(lo > 0, MET, NOT_MET)).astype(np.int8)


def at_least(score: Interval, bar: float) -> np.ndarray:
    """Status of ``score >= bar`` over an interval of scores.

    Parameters
    ----------
    score : Interval
        Scores, as lowest and highest reachable.
    bar : float
        The pass mark.

    Returns
    -------
    numpy.ndarray
        int8 status codes.
    """
    return status_codes(Interval((score.lo >= bar - 1e-9).astype(float), (score.hi >= bar - 1e-9).astype(float)))


def bracket_points(b: Brackets, value: Interval) -> tuple[np.ndarray, np.ndarray]:
    """Points range reachable by ``value`` over brackets ``b`` (edges inclusive).

    Parameters
    ----------
    b : Brackets
        The bracket table.
    value : Interval
        The metric's value per firm.

    Returns
    -------
    tuple of numpy.ndarray
        Lowest and highest points per firm.
    """
    if len(value.lo) == 1:  # one firm: in Python, as below
        return _one_bracket_points(b, float(value.lo[0]), float(value.hi[0]))
    edges = np.asarray(b.edges)
    pts = np.asarray(b.points + (b.otherwise,))

    def index(v: np.ndarray) -> np.ndarray:
        if b.at_most:
            return (v[:, None] > edges[None, :] + _tol(edges)[None, :]).sum(axis=1)
        return (v[:, None] < edges[None, :] - _tol(edges)[None, :]).sum(axis=1)

    i_lo, i_hi = index(value.lo), index(value.hi)
    first, last = np.minimum(i_lo, i_hi), np.maximum(i_lo, i_hi)
    p_lo = np.full(len(first), np.inf)
    p_hi = np.full(len(first), -np.inf)
    for j, p in enumerate(pts):
        inside = (first <= j) & (j <= last)
        p_lo = np.where(inside, np.minimum(p_lo, p), p_lo)
        p_hi = np.where(inside, np.maximum(p_hi, p), p_hi)
    return p_lo, p_hi


def _one_bracket_points(b: Brackets, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`bracket_points` for one firm's ``[lo, hi]``, with the same comparisons and the same picks."""
    tols = [_tol(float(e)) for e in b.edges]

    def index(v: float) -> int:
        if b.at_most:
            return sum(v > e + t for e, t in zip(b.edges, tols))
        return sum(v < e - t for e, t in zip(b.edges, tols))

    i_lo, i_hi = index(lo), index(hi)
    p_lo, p_hi = np.inf, -np.inf
    for p in (b.points + (b.otherwise,))[min(i_lo, i_hi):max(i_lo, i_hi) + 1]:
        p_lo = p if not p_lo < p else p_lo   # numpy.minimum / maximum: the second operand on a tie
        p_hi = p if not p_hi > p else p_hi
    return np.array([p_lo]), np.array([p_hi])
