"""The PDF report: ``build_story`` turns an assessment into flowables, ``render_pdf`` writes them to a file."""

from __future__ import annotations

from reportlab import rl_config
from reportlab.platypus import SimpleDocTemplate

from webapp.engine import defaults
from webapp.engine.advice.advise import advise
from webapp.engine.cohorts.store import CohortSet
from webapp.engine.rules.rulebook import RuleBook
from webapp.reports.sections import bench, cover, criteria, hnte, method, plan
from webapp.reports.sections.common import WORDS, Ctx
from webapp.reports.stationery import furniture_canvas
from webapp.reports.styles import MARGIN, PAGE, FontSet, register_fonts

LANGS = ("zh", "en")
EDITIONS = ("full", "client")  # "client": the report without the method appendix, for the firm itself


def _check(assessment: dict, lang: str, edition: str = "full") -> None:
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}: use 'zh' or 'en'")
    if edition not in EDITIONS:
        raise ValueError(f"unsupported edition {edition!r}: use 'full' or 'client'")
    if not isinstance(assessment, dict) or not isinstance(assessment.get("tiers"), dict):
        raise ValueError("assessment must be the result dict of Assessment.to_dict(i), with a 'tiers' key")


def build_story(assessment: dict, lang: str = "zh", *, consultant: str | None = None, client: str | None = None,
                logo=None, practice: str | None = None, edition: str = "full", fonts: FontSet | None = None,
                rule_book: RuleBook | None = None, cohorts: CohortSet | None = None) -> list:
    """The report as a list of flowables, without writing anything.

    Parameters
    ----------
    assessment : dict
        The assessment contract (``Assessment.to_dict(i)``); ``advice``, ``benchmarks``, ``dimensions`` and
        ``readiness`` are rendered when present (advice is computed from the gaps when absent) and
        replaced by a short "not available in this report" line otherwise.
    lang : {"zh", "en"}
    consultant, client : str, optional
        Names printed on the cover (user text: escaped).
    logo : str, pathlib.Path, bytes or binary file, optional
        An image for the cover.
    practice : str, optional
        The consultant's practice name, printed on the cover under the logo (user text: escaped).
    edition : {"full", "client"}
        "client" leaves out the method appendix (sources, model card, planning constants): the edition a
        consultant hands to the firm; the glossary stays.
    fonts : FontSet, optional
        Default :func:`webapp.reports.styles.register_fonts`.
    rule_book, cohorts : optional
        The rule tables and cohorts the assessment was made with (default: the engine's, see
        :mod:`webapp.engine.defaults`).

    Returns
    -------
    list of reportlab.platypus.Flowable
    """
    _check(assessment, lang, edition)
    fonts = fonts or register_fonts()
    rule_book = rule_book or defaults.load(defaults.rule_book)
    cohorts = cohorts or defaults.load(defaults.cohorts)
    advice = assessment.get("advice") if isinstance(assessment.get("advice"), dict) else \
        advise(assessment, rule_book=rule_book)
    ctx = Ctx(assessment=assessment, lang=lang, fonts=fonts, advice=advice, rule_book=rule_book, cohorts=cohorts)
    return [
        *cover.cover(ctx, consultant=consultant, client=client, logo=logo, practice=practice),
        *cover.summary(ctx),
        *criteria.criteria_section(ctx),
        *hnte.hnte_section(ctx),
        *bench.benchmark_section(ctx),
        *bench.readiness_section(ctx),
        *plan.plan_section(ctx),
        *(method.method_section(ctx) if edition == "full" else []),
        *method.glossary_section(ctx),
    ]


def render_pdf(assessment: dict, fp, *, lang: str = "zh", invariant: bool = False, consultant: str | None = None,
               client: str | None = None, logo=None, practice: str | None = None, edition: str = "full",
               font: str | None = None, rule_book: RuleBook | None = None, cohorts: CohortSet | None = None) -> None:
    """Write the PDF report to ``fp``, any binary file-like object (or a path).

    Parameters
    ----------
    assessment : dict
        See :func:`build_story`.
    fp : binary file or str
        Where to write.
    lang : {"zh", "en"}
    invariant : bool
        Byte-stable output (fixed dates and ids), for tests.
    consultant, client, logo, practice, edition, rule_book, cohorts
        See :func:`build_story`.
    font : str, optional
        A CJK TrueType font to embed (``.ttf``/``.ttc``, optional ``#index``); default
        ``$GIANTSTEP_CJK_FONT`` or a system font, else the built-in STSong-Light.
    """
    _check(assessment, lang, edition)
    fonts = register_fonts(font)
    story = build_story(assessment, lang, consultant=consultant, client=client, logo=logo, practice=practice,
                        edition=edition, fonts=fonts, rule_book=rule_book, cohorts=cohorts)
    w = WORDS[lang]
    firm = assessment.get("firm_name") or ""
    versions = " · ".join(f"{k} {v}" for k, v in (assessment.get("rule_versions") or {}).items())
    footer = f"{w['rules']}: {versions}  ·  {w['as_of']}: {assessment.get('as_of', '')}"
    doc = SimpleDocTemplate(fp, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN, invariant=int(invariant), title=f"{w['report']} — {firm}",
                            author=practice or consultant or "GiantStep", subject=w["report"], creator="GiantStep",
                            lang="zh-CN" if lang == "zh" else "en")
    canvas = furniture_canvas(header=f"{firm}  ·  {w['report']}", footer=footer, fonts=fonts, lang=lang)
    saved = rl_config.useA85
    rl_config.useA85 = 0  # binary streams: smaller files, and no pure-Python ASCII85 pass
    try:
        doc.build(story, canvasmaker=canvas)
    finally:
        rl_config.useA85 = saved
