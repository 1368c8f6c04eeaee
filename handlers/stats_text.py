"""The monthly figures as text for a phone: `统计` replies and the briefing's body."""
from __future__ import annotations

from handlers.case_text import category_name
from storage.stats import MonthlyFigures, percent

TOP_COMMUNITIES = 8  # a station has a handful of communities; cities have more


def stats_text(title: str, f: MonthlyFigures) -> str:
    lines = [f"【{title} {f.year}年{f.month}月统计】"]
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
    rate = f.mediation_rate
    lines.append(f"调处率：{rate}（{f.disputes_mediated}/{f.disputes_received}）" if f.disputes_received else "调处率：—（本月无矛盾纠纷）")
    lines.append(f"回访：完成{f.followups_done}次，逾期{f.followups_overdue}次")
    if f.attendance is not None:
        a = f.attendance
        lines.append(f"护学岗到岗率：{percent(a.on_time, a.on_duty)}（{a.on_time}/{a.on_duty}）")
    if f.false_positives:
        fps = "、".join(f"{category_name(c)}{percent(fp, n)}（{fp}/{n}）" for c, fp_n in f.false_positives.items() for fp, n in [fp_n])
        lines.append(f"误报率：{fps}")
    else:
        lines.append("误报：0件")
    if f.noisy_keywords:
        lines.append("误报最多的词：" + "、".join(f"{w}（{n}）" for w, n in f.noisy_keywords))
    return "\n".join(lines)
