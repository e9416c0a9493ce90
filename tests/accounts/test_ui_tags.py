"""The presentation helpers of accounts/templatetags/ui.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accounts.templatetags.ui import initials, relative, reltime

pytestmark = pytest.mark.django_db  # the suite clears the (database) cache around every test

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (NOW - timedelta(seconds=30), "just now"),
        (NOW + timedelta(seconds=59), "just now"),
        (NOW - timedelta(minutes=1), "1 minute ago"),
        (NOW - timedelta(minutes=59, seconds=59), "59 minutes ago"),
        (NOW - timedelta(hours=1), "1 hour ago"),
        (NOW - timedelta(hours=23), "23 hours ago"),
        (NOW - timedelta(days=1), "1 day ago"),
        (NOW - timedelta(days=6), "6 days ago"),
        (NOW - timedelta(days=7), "1 week ago"),
        (NOW - timedelta(days=27), "3 weeks ago"),
        # 10 Feb 12:00 to 10 Mar 12:00 is a calendar month; a second less is not.
        (datetime(2026, 2, 10, 12, 0, tzinfo=UTC), "1 month ago"),
        (datetime(2026, 2, 10, 12, 0, 1, tzinfo=UTC), "3 weeks ago"),
        (datetime(2025, 4, 11, tzinfo=UTC), "10 months ago"),
        (datetime(2025, 3, 10, 12, 0, tzinfo=UTC), "1 year ago"),
        (datetime(2020, 1, 1, tzinfo=UTC), "6 years ago"),
        (NOW + timedelta(hours=5), "in 5 hours"),
        (NOW + timedelta(days=2, hours=1), "in 2 days"),
        (datetime(2026, 5, 10, 12, 0, tzinfo=UTC), "in 2 months"),
    ],
)
def test_relative_says_one_unit(value, expected):
    assert relative(value, NOW) == expected


def test_reltime_is_a_time_element_with_the_exact_moment(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    html = reltime(datetime(2026, 1, 5, 8, 7, tzinfo=UTC))
    assert html.startswith(
        '<time datetime="2026-01-05T08:07:00+00:00" title="5 Jan 2026, 09:07 CET">'
    )
    assert html.endswith(" ago</time>")
    assert reltime(None) == "—"


def test_initials():
    assert initials("Ada Lovelace") == "AL"
    assert initials("grace.hopper@navy.mil") == "GH"
    assert initials("") == "?"
