"""The bot's features, assembled in one place.

Two families that never import each other: cases (reports, officer commands,
escalation, follow-ups) and guard posts (school shifts). Each builds itself; this
function hands the guard posts the one thing they need from cases (opening a case
for a report made in a school's room) as a plain callable.
"""
from __future__ import annotations

from bot.feature import Feature, Services
from handlers.cases import Cases
from handlers.guard import GuardPosts


def build_features(services: Services) -> list[Feature]:
    """Every feature, in the order their handlers are offered a message."""
    cases = Cases(services)
    return [cases, GuardPosts(services, report=cases.report_in_room)]
