"""What every section shares: the report context, its vocabulary, paragraphs and tables."""

from __future__ import annotations

from dataclasses import dataclass, field

from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import CondPageBreak, Paragraph, Spacer, Table, TableStyle

from webapp.engine.advice.format import format_distance, format_value
from webapp.engine.cohorts.store import CohortSet
from webapp.engine.rules.rulebook import RuleBook
from webapp.reports.styles import ACCENT, FRAME_WIDTH, INK, RULE, STATUS_COLOURS, FontSet, get_styles, markup

WORDS = {
    "zh": {
        "report": "专精特新梯度培育自评报告", "firm": "企业", "as_of": "评估日期", "rules": "适用规则",
        "consultant": "编制", "client": "委托方", "met": "符合", "not_met": "不符合", "unknown": "待定",
        "tier": "当前层级", "next": "下一层级", "none": "尚未达到任何层级", "summary": "摘要",
        "ladder": "梯度培育阶梯", "criteria": "逐项评价", "benchmarks": "创新能力对标", "readiness": "晋级就绪度",
        "plan": "差距与路线图", "method": "方法与来源", "glossary": "字段说明", "criterion": "条件",
        "status": "结果", "value": "企业数值", "threshold": "要求", "points": "得分", "notes": "说明",
        "score": "得分", "self": "自我声明", "unverified": "规则未核实", "secondary": "二手来源",
        "manual": "需人工审核", "route": "路径", "held": "已持有称号", "eligible": "本次评估符合",
        "missing": "缺少", "need": "差距", "current": "当前", "next_mark": "下一步", "top_actions": "优先行动",
        "action": "行动", "amount": "数量", "lead": "见效（月）", "eta": "预计", "readiness_na":
        "本报告未包含晋级就绪度（概率模型）结果。", "bench_na": "本报告未包含同类企业对标数据。",
        "dims_na": "本报告未包含四个维度的得分。", "probability": "晋级概率", "driver": "驱动因素",
        "target": "目标", "delta": "概率变化", "cohort": "对标群体", "percentile": "百分位", "mean": "均值",
        "median": "中位数", "basis": "依据", "fitted": "按公开汇总数据拟合", "empirical": "实际企业数据",
        "milestones": "层级里程碑", "earliest": "最早满足条件", "title": "预计取得称号", "open": "待满足条件",
        "roadmap": "门槛与时间", "at_growth": "按自身增速", "with_action": "采取行动",
        "not_reached": "10年内按当前增速无法达到",
        "themes": "四项建议主题", "today": "今天", "sources": "规则来源", "verification": "核实程度",
        "instrument": "文件", "version": "版本", "model": "就绪度模型", "planning": "规划常数", "source": "来源",
        "field": "字段", "unit": "单位", "help": "说明", "of": "/", "p": "第{n}百分位", "actions_all": "全部建议",
        "kind": "类型", "incomplete": "（部分条件因缺少数据未计入）", "page_note": "", "gap": "差距",
        "at_growth_note": "按企业近三年自身增速推算", "dimension": "维度", "no_actions": "暂无需要采取的行动。",
        "unknown_note": "待定：缺少数据或需人工审核", "range": "区间", "now": "当前值", "timeline": "时间线",
        "mode": "评估类型", "title_if": "预计取得称号（若待补数据达标）",
    },
    "en": {
        "report": "SME Ladder Self-Assessment", "firm": "Firm", "as_of": "Assessed on", "rules": "Rules",
        "consultant": "Prepared by", "client": "Prepared for", "met": "met", "not_met": "not met",
        "unknown": "unknown", "tier": "Current tier", "next": "Next tier", "none": "no tier reached yet",
        "summary": "Summary", "ladder": "The ladder", "criteria": "Criterion by criterion",
        "benchmarks": "Benchmarks", "readiness": "Readiness for the next step", "plan": "Gaps and roadmap",
        "method": "Method and sources", "glossary": "Glossary of inputs", "criterion": "Criterion",
        "status": "Result", "value": "Firm", "threshold": "Required", "points": "Points", "notes": "Notes",
        "score": "Score", "self": "self-declared", "unverified": "rule unverified", "secondary": "secondary source",
        "manual": "manual review", "route": "route", "held": "title held", "eligible": "eligible here",
        "missing": "missing", "need": "gap", "current": "you are here", "next_mark": "next",
        "top_actions": "Priority actions", "action": "Action", "amount": "Amount", "lead": "Months",
        "eta": "Expected", "readiness_na": "This report has no readiness (probability model) result.",
        "bench_na": "This report has no cohort comparison.", "dims_na": "This report has no dimension scores.",
        "probability": "Probability", "driver": "Driver", "target": "Target", "delta": "Change",
        "cohort": "Cohort", "percentile": "Percentile", "mean": "Mean", "median": "Median", "basis": "Basis",
        "fitted": "fitted to published aggregates", "empirical": "firm-level data",
        "milestones": "Milestones by tier", "earliest": "Criteria met", "title": "Title expected",
        "open": "Open criteria", "roadmap": "Thresholds and dates", "at_growth": "At own growth",
        "with_action": "With action", "not_reached": "not within 10 years at current growth",
        "themes": "Four themes", "today": "today", "sources": "Rule sources", "verification": "Verification",
        "instrument": "Instrument", "version": "Version", "model": "Readiness model", "planning": "Planning constants",
        "source": "Source", "field": "Field", "unit": "Unit", "help": "Meaning", "of": "/", "p": "P{n}",
        "actions_all": "All recommendations", "kind": "Kind", "incomplete": " (some criteria lack data)",
        "page_note": "", "gap": "Gap", "at_growth_note": "extrapolating the firm's own last three years",
        "dimension": "Dimension", "no_actions": "No action is needed.",
        "unknown_note": "unknown: data missing or manual review", "range": "range", "now": "Now",
        "timeline": "Timeline", "mode": "Assessment", "title_if": "Title expected (if missing data pass)",
    },
}
# Marks set in the embedded CJK font (it has √ and × but no ✓): viewers without Chinese fonts show them too.
MARKS = {"met": "√", "not_met": "×", "unknown": "?"}
VERIFICATION = {
    "zh": {"verified": "已核实", "verified-wording": "已核实原文", "secondary": "二手来源", "unverified": "未核实",
           "recalled": "凭记忆引用", "assumption": "规划假设"},
    "en": {"verified": "verified", "verified-wording": "wording verified", "secondary": "secondary",
           "unverified": "unverified", "recalled": "recalled", "assumption": "assumption"},
}


class Para(Paragraph):
    """A Paragraph that breaks its lines once per width: tables wrap each cell several times (to size rows,
    to split across pages, to draw), and line breaking is most of a report's time."""

    _memo: tuple | None = None

    def wrap(self, availWidth, availHeight):  # noqa: N803 - reportlab's API
        """Width and height at ``availWidth`` (the height does not depend on ``availHeight``)."""
        memo = self._memo
        if memo is not None and memo[0] == availWidth and memo[2] is self.__dict__.get("blPara"):
            self.width = availWidth
            return memo[1]
        size = super().wrap(availWidth, availHeight)
        self._memo = (availWidth, size, self.blPara)
        return size


@dataclass
class Ctx:
    """One report being built: language, fonts, styles, the assessment and its advice."""

    assessment: dict
    lang: str
    fonts: FontSet
    advice: dict
    rule_book: RuleBook
    cohorts: CohortSet
    styles: dict = field(init=False)
    w: dict = field(init=False)

    def __post_init__(self):
        self.styles = get_styles(self.lang, self.fonts)
        self.w = WORDS[self.lang]

    def t(self, obj: dict, key: str = "name") -> str:
        """``obj["<key>_zh"]`` or ``obj["<key>_en"]`` for this report's language."""
        return obj.get(f"{key}_{self.lang}") or obj.get(f"{key}_en") or obj.get(f"{key}_zh") or ""

    def p(self, text, style: str = "body") -> Paragraph:
        """A paragraph of plain text (escaped; CJK runs set in the CJK font)."""
        return Para(markup(text, self.fonts, self.lang), self.styles[style])

    def raw(self, html: str, style: str = "body") -> Paragraph:
        """A paragraph of trusted markup built by the report itself (its parts escaped by the caller)."""
        return Para(html, self.styles[style])

    def esc(self, text) -> str:
        """Escaped text for use inside :meth:`raw` markup."""
        return markup(text, self.fonts, self.lang)

    def value(self, value, unit: str) -> str:
        """A value with its unit, in this language."""
        return format_value(value, unit, self.lang)

    def distance(self, value, unit: str) -> str:
        """A gap, in percentage points for ratios."""
        return format_distance(value, unit, self.lang)

    def status_plain(self, status: str) -> str:
        """A status as mark and word, plain text for a table cell set in the CJK font."""
        return f"{MARKS.get(status, '?')} {self.w.get(status, status)}"

    def status(self, status: str) -> str:
        """A status as coloured mark and word, as trusted markup."""
        colour = STATUS_COLOURS.get(status, colors.black).hexval()[2:]
        mark = f'<font name="{self.fonts.cjk}">{MARKS.get(status, "?")}</font>'
        return f'<font color="#{colour}">{mark} {self.esc(self.w.get(status, status))}</font>'

    def heading(self, text, style: str = "h2", space: float = 110) -> list:
        """A heading that starts a new page unless ``space`` points remain for what follows it."""
        return [CondPageBreak(space), self.p(text, style)]

    def legend(self) -> str:
        """The status legend as trusted markup."""
        sep = "　" if self.lang == "zh" else "   "
        marks = sep.join(self.status(s) for s in ("met", "not_met", "unknown"))
        note = self.esc(self.w["unknown_note"])
        return f"{marks}（{note}）" if self.lang == "zh" else f"{marks} ({note})"

    def tier_name(self, tid: str | None) -> str:
        """A tier's name in this language (or "no tier")."""
        if not tid or tid == "none":
            return self.w["none"]
        return self.t(self.assessment["tiers"].get(tid, {})) or tid


def _cell(ctx: Ctx, value, width: float):
    """A cell: plain text when it fits on one line in a font that has its glyphs (fast), else a Paragraph."""
    if not isinstance(value, str):
        return value
    font = ctx.fonts.body(ctx.lang)
    plain = ctx.lang == "zh" or all(ord(ch) < 256 for ch in value)
    if plain and all(stringWidth(line, font, 8) <= width - 7 for line in value.split("\n")):
        return value
    return ctx.p(value, "cell")


def table(ctx: Ctx, header: list[str], rows: list[list], widths: list[float], *, zebra: bool = True,
          style: list | None = None) -> Table:
    """A table that wraps its cells, repeats its header across pages and splits between rows."""
    total = sum(widths)
    cols = [FRAME_WIDTH * w / total for w in widths]
    head = [ctx.p(h, "head") for h in header]
    body = [[_cell(ctx, c, cols[j]) for j, c in enumerate(row)] for row in rows]
    t = Table([head, *body], colWidths=cols, repeatRows=1, splitByRow=1, hAlign="LEFT")
    commands = [
        ("BACKGROUND", (0, 0), (-1, 0), ACCENT), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONT", (0, 1), (-1, -1), ctx.fonts.body(ctx.lang), 8, 10.5), ("TEXTCOLOR", (0, 1), (-1, -1), INK),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE), ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5), ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if zebra:
        commands += [("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f5f7f9")])]
    t.setStyle(TableStyle(commands + (style or [])))
    return t


def gap(height: float = 6) -> Spacer:
    """Vertical space."""
    return Spacer(1, height)


def percent(prob: float | None) -> str:
    """A probability as a whole percentage; "<1%" rather than "0%" for a small but non-zero one."""
    if prob is None:
        return "—"
    return "<1%" if 0 < prob < 0.005 else f"{prob * 100:.0f}%"
