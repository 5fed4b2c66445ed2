"""How late the EMS answers child orders now: the age of the latest child's first report.

A child still unreported ``reconcile_timeout`` after it was planned is taken for one whose
report was lost, and the EMS is asked where it stands (``runner``). When the EMS itself falls
behind (a burst it queues, a machine that is full), every child is late, and asking about each
one loads it further: with 3,750 children due a second in the throughput benchmark the EMS fell
4 s behind, and the daemon sent it 27,000 status requests in 30 s and held its slices back
meanwhile. So a child is overdue only ``reconcile_timeout`` past how late the EMS answers now.
A report lost while the others come on time is still asked about after ``reconcile_timeout``;
an EMS that stops answering keeps the lag it last showed.
"""

from __future__ import annotations

from datetime import datetime, timedelta


class ReportLag:
    """The age of the latest first report of a child order, when it arrived."""

    __slots__ = ("lag",)

    def __init__(self) -> None:
        self.lag = timedelta(0)

    def observe(self, planned_at: datetime, now: datetime) -> None:
        """A child planned at ``planned_at`` had its first report at ``now``."""
        self.lag = max(now - planned_at, timedelta(0))
