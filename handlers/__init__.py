"""The bot's features, assembled in one place.

Two families that never import each other: cases (reports, officer commands,
escalation, follow-ups) and guard posts (school shifts); and identity (binding
people to their WeChat ids), which both rely on through `Services.people`. Each builds itself; this
function hands the guard posts the one thing they need from cases (opening a case
for a report made in a school's room) as a plain callable.
"""
from __future__ import annotations

from bot.feature import Feature, Services
from handlers.cases import Cases
from handlers.guard import GuardPosts
from handlers.identity import Identity


def build_features(services: Services) -> list[Feature]:
    """Every feature, in the order their handlers are offered a message."""
    cases = Cases(services)
    # Identity first: `绑定 123456` is nobody's report and no officer command.
    return [Identity(services), cases, GuardPosts(services, report=cases.report_in_room)]
