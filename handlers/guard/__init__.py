"""Guard-post groups (schools), SPEC.md "Guard-post groups (schools)".

One job per module:
    feature.py     GuardPosts: the feature (handlers, jobs, start)
    room.py        the handler of a school's room: what a message asks for, and its work
    checkin.py     到岗
    swaps.py       代班
    table.py       the weekly duty table (Sunday 18:00, and 值班表 on request)
    shifts.py      reminder, chase and officer notice jobs; late delivery after a restart
    attendance.py  settling a shift's attendance when it ends (and after downtime)
    roster.py      one shift on one date: its moments and who is on duty after swaps
    calendar.py    school days, and why a date is not one
    dates.py       dates as staff type and read them

This package imports the bot's core, storage, nlp and handlers/text.py only; never the
cases family (reports reach it through the `report` callable).
"""
from handlers.guard.feature import GuardPosts

__all__ = ["GuardPosts"]
