"""When a campaign may send: its window (days of the week and hours, in its time zone or the
lead's own) and the delays between steps."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

# Sends inside a window are spread by up to this much, rather than all at its start.
JITTER_SECONDS = 300


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_window(campaign, moment: datetime, tz: ZoneInfo | None = None) -> bool:
    local = moment.astimezone(tz or zone(campaign.time_zone))
    if local.weekday() not in (campaign.window_days or []):
        return False
    return campaign.window_start <= local.time().replace(tzinfo=None) < campaign.window_end


def next_open(campaign, after: datetime, tz: ZoneInfo | None = None) -> datetime | None:
    """The first moment at or after `after` inside the window (None: the window is empty)."""
    tz = tz or zone(campaign.time_zone)
    days = set(campaign.window_days or [])
    if not days or campaign.window_start >= campaign.window_end:
        return None
    local = after.astimezone(tz)
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        if day.weekday() not in days:
            continue
        opens = datetime.combine(day, campaign.window_start, tzinfo=tz)
        closes = datetime.combine(day, campaign.window_end, tzinfo=tz)
        if offset == 0 and local >= closes:
            continue
        return max(opens, local) if offset == 0 else opens
    return None


def first_send_at(
    campaign, now: datetime | None = None, tz: ZoneInfo | None = None, jitter: bool = True
):
    now = now or timezone.now()
    start = max(now, campaign.start_at) if campaign.start_at else now
    moment = next_open(campaign, start, tz)
    if moment is not None and jitter and moment > now:
        moment += timedelta(seconds=random.uniform(0, JITTER_SECONDS))
    return moment


def after_delay(campaign, step, sent_at: datetime, tz: ZoneInfo | None = None, jitter: bool = True):
    """When the step after one sent at `sent_at` is due: its delay later, moved into the
    window."""
    due = sent_at + timedelta(days=step.delay_days, hours=step.delay_hours)
    moment = next_open(campaign, due, tz)
    if moment is not None and jitter:
        moment += timedelta(seconds=random.uniform(0, JITTER_SECONDS))
    return moment
