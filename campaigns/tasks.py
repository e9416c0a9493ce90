"""Background work of the campaigns app (django-q2): the dispatcher that sends campaign
email, run every minute by its schedule (campaigns.schedules)."""

from __future__ import annotations

import time
from collections import Counter

from campaigns import sending

# A run stays under the one-minute schedule (the next run starts as this one ends), and well
# under Q_CLUSTER's timeout even when its last batch is a slow one.
RUN_SECONDS = 50
IDLE_SLEEP = 0.2


def dispatch_campaigns(seconds: float = RUN_SECONDS) -> dict[str, int]:
    """Sweeper (every minute): materialize due enrollment steps and send queued messages,
    again and again for up to `seconds`, while there is work that can go now (a sender held
    by its per-minute rate is waited for; a daily cap, a quota or a closed window ends the
    run). Crosses organizations by design; safe to run in several workers at once (claims
    are exclusive). Returns the counts by outcome, for the task log."""
    state = sending.SendState()
    deadline = time.monotonic() + seconds
    totals: Counter = Counter()
    while time.monotonic() < deadline:
        made = sending.materialize()
        counts = sending.dispatch(state=state)
        totals["materialized"] += made
        totals.update(counts)
        if counts["claimed"] or made:
            continue
        if not counts["rate_limited"]:
            break
        time.sleep(min(IDLE_SLEEP, max(deadline - time.monotonic(), 0)))
    return dict(totals)
