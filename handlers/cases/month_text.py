"""A month's figures in words: the `统计` reply and the monthly briefing's text
(SPEC.md "Monthly briefing"), and corrections to a month already briefed.

Pure formatting: figures, corrections and names in, text out. One line per figure,
short enough for a phone screen.
"""
from __future__ import annotations

from datetime import datetime, tzinfo

from handlers.cases.wording import category_name
from storage import corrections as corr
from storage.corrections import Correction
from storage.months import FrozenMonth
from storage.stats import MonthlyFigures, percent

TOP_COMMUNITIES = 8  # a station has a handful of communities; cities have more


def month_name(year: int, month: int) -> str:
    return f"{year}年{month}月"


def short_date(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.month}月{local.day}日"


def figure_lines(f: MonthlyFigures, school_names: dict[str, str]) -> list[str]:
    """The body shared by 统计 and the briefing."""
    lines = []
    if f.received:
        cats = "、".join(f"{category_name(c)}{n}" for c, n in f.by_category.items())
        lines.append(f"受理{f.received}件：{cats}")
        communities = list(f.by_community.items())
        shown = "、".join(f"{c or '未知'}{n}" for c, n in communities[:TOP_COMMUNITIES])
        more = f"等{len(communities)}个社区" if len(communities) > TOP_COMMUNITIES else ""
        lines.append(f"按社区：{shown}{more}")
    else:
        lines.append("受理0件")
    lines.append(f"已办结{f.resolved}件，未结{f.open}件")
    lines.append(f"调处率：{f.mediation_rate}（{f.disputes_mediated}/{f.disputes_received}）" if f.disputes_received else "调处率：—（本月无矛盾纠纷）")
    lines.append(f"回访：完成{f.followups_done}次，逾期{f.followups_overdue}次")
    lines += attendance_lines(f, school_names)
    if f.suspected:
        lines.append(f"疑似警情{f.suspected}件：核实{f.suspected_confirmed}件，误报{f.suspected_dismissed}件，待核实{f.suspected_pending}件")
    if f.false_positives:
        fps = "、".join(f"{category_name(c)}{percent(fp, n)}（{fp}/{n}）" for c, (fp, n) in f.false_positives.items())
        lines.append(f"误报率：{fps}")
    else:
        lines.append("误报：0件")
    if f.noisy_keywords:
        lines.append("误报最多的词：" + "、".join(f"{w}（{n}）" for w, n in f.noisy_keywords))
    return lines


def attendance_lines(f: MonthlyFigures, school_names: dict[str, str]) -> list[str]:
    """护学岗到岗率 (on time ÷ on duty), in all and per school; nothing for stations
    without schools."""
    a = f.attendance
    if a is None:
        return []
    if a.on_duty == 0:
        return ["护学岗到岗率：—（本月无班次记录）"]
    schools = [(school_names.get(s, s), x) for s, x in f.attendance_by_school.items()]
    per_school = "、".join(f"{name}{x.rate}（{x.on_time}/{x.on_duty}）" if x.on_duty else f"{name}—" for name, x in schools)
    if len(schools) == 1:
        return [f"护学岗到岗率：{per_school}"]
    return [f"护学岗到岗率：{a.rate}（{a.on_time}/{a.on_duty}）", f"　各校：{per_school}"]


def stats_text(
    title: str,
    f: MonthlyFigures,
    school_names: dict[str, str] | None = None,
    *,
    frozen_at: datetime | None = None,
    corrections: list[Correction] | None = None,
    current: MonthlyFigures | None = None,
    tz: tzinfo | None = None,
) -> str:
    """The `统计` reply. For a month already briefed (`frozen_at`): the figures as
    the briefing sent them, then every correction since and what it changed."""
    head = f"【{title} {month_name(f.year, f.month)}统计】"
    if frozen_at is not None and tz is not None:
        head += f"（{short_date(frozen_at, tz)}通报数字）"
    lines = [head, *figure_lines(f, school_names or {})]
    if corrections and current is not None and tz is not None:
        lines.append("通报后更正：")
        lines += correction_lines(corrections, tz)
        changed = changes(f, current)
        if changed:
            lines.append("更正后：" + "；".join(changed))
    return "\n".join(lines)


def briefing_text(station_name: str, f: MonthlyFigures, school_names: dict[str, str], corrected: list[FrozenMonth], tz: tzinfo, *, attached: list[str]) -> str:
    """The briefing's message: the month's figures (or that there were no cases),
    corrections to months briefed before, and what is attached."""
    lines = [f"【{station_name} {month_name(f.year, f.month)}通报】"]
    if f.received == 0 and not f.false_positives:
        lines.append("本月没有登记案件。")
        lines += [line for line in figure_lines(f, school_names) if line.startswith(("回访", "护学岗", "　各校"))]
    else:
        lines += figure_lines(f, school_names)
    for month in corrected:
        lines += correction_section(month, tz)
    if attached:
        lines.append(f"附：{'、'.join(attached)}。")
    return "\n".join(lines)


def correction_section(month: FrozenMonth, tz: tzinfo) -> list[str]:
    """A month briefed before, corrected since its last report: the cases and what
    changed, from the figures last reported to the figures now."""
    year, number = (int(x) for x in month.month.split("-"))
    lines = [f"【更正】{month_name(year, number)}（已通报）："]
    lines += correction_lines(list(month.unreported), tz)
    changed = changes(month.as_reported, month.current)
    lines.append("；".join(changed) if changed else "各项数字不变")
    return lines


def correction_lines(corrections: list[Correction], tz: tzinfo) -> list[str]:
    out = []
    for c in corrections:
        when = f"（{short_date(c.at, tz)} {c.actor}）" if c.actor else f"（{short_date(c.at, tz)}）"
        if c.kind == corr.REBOUND:
            what = "回访反弹，重新处理"
        elif c.kind == corr.RECLASSIFY:
            what = f"改类 {category_name(c.category_from or '')}→{category_name(c.category_to or '')}"
        else:
            what = "核实为误报"
        out.append(f"#{c.case_id} {what}{when}")
    return out


def changes(before: MonthlyFigures, after: MonthlyFigures) -> list[str]:
    """What differs between two versions of one month's figures, in words."""
    out = []
    if before.received != after.received:
        out.append(f"受理{before.received}→{after.received}件")
    cats = [c for c in dict.fromkeys([*before.by_category, *after.by_category]) if before.by_category.get(c, 0) != after.by_category.get(c, 0)]
    if cats:
        out.append("、".join(f"{category_name(c)}{before.by_category.get(c, 0)}→{after.by_category.get(c, 0)}" for c in cats))
    if (before.resolved, before.open) != (after.resolved, after.open):
        out.append(f"已办结{before.resolved}→{after.resolved}件，未结{before.open}→{after.open}件")
    if (before.disputes_mediated, before.disputes_received) != (after.disputes_mediated, after.disputes_received):
        out.append(
            f"调处率{before.mediation_rate}（{before.disputes_mediated}/{before.disputes_received}）"
            f"→{after.mediation_rate}（{after.disputes_mediated}/{after.disputes_received}）"
        )
    fp_before = sum(fp for fp, _ in before.false_positives.values())
    fp_after = sum(fp for fp, _ in after.false_positives.values())
    if fp_before != fp_after:
        out.append(f"误报{fp_before}→{fp_after}件")
    return out
