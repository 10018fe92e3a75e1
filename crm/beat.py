"""One beat sends the periodic tasks, any other stands by: django-celery-beat's
DatabaseScheduler behind a lease.

Two `celery beat` processes against one database used to send every periodic task twice (and
overwrite each other's run counts). Now every CRM_BEAT_CHECK_SECONDS each beat:

* takes or renews the lease (crm.BeatLease, one row): free, expired or already ours → ours for
  CRM_BEAT_LEASE_SECONDS. Times are the database's clock, so beats on machines whose clocks
  disagree still agree on who holds it; a conditional UPDATE decides between two standbys.
* records itself (crm.BeatProcess: host, pid, last seen, sending until), for /status/.

Only the holder runs the scheduler's tick. It trusts its lease until CRM_BEAT_LEASE_SECONDS
after the renewal began (by its own monotonic clock, minus a margin), so it stops sending
before a standby can take over, even if it was paused. A killed holder (SIGKILL, a lost machine)
is replaced once its lease runs out: within CRM_BEAT_LEASE_SECONDS + CRM_BEAT_CHECK_SECONDS.
A holder that stops cleanly gives the lease back at once.

The holder writes each entry's last run and run count right after sending it, and a beat that
takes over re-reads the schedule first, so it neither re-sends what the previous holder sent nor
writes back a stale run count.
"""
import copy
import datetime as dt
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, InterfaceError, close_old_connections
from django.db.models import DateTimeField, ExpressionWrapper, Q, Value
from django.db.models.functions import Now
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_celery_beat.schedulers import DatabaseScheduler

from .health import Check
from .models import BeatLease, BeatProcess

logger = logging.getLogger(__name__)

LEASE_NAME = "beat"
_NEVER = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# The holder stops trusting its lease this long before it runs out (slow queries, clock drift).
_SAFETY = 2.0
# /status/ lists beats seen this recently; rows older than a day are deleted.
SEEN_WINDOW = dt.timedelta(minutes=2)
_FORGET_AFTER = dt.timedelta(days=1)


@dataclass(frozen=True)
class LeaseState:
    held: bool
    holder: str  # the holder's ident as last read ("" for nobody)
    expires_at: dt.datetime
    now: dt.datetime  # the database's clock


def process_ident() -> tuple[str, str, int]:
    """(ident, host, pid); the random part tells a restarted process with a reused pid apart."""
    host, pid = socket.gethostname(), os.getpid()
    return f"{host}:{pid}:{secrets.token_hex(4)}", host, pid


def ident_label(ident: str) -> str:
    """"host:pid" of an ident, for logs and the status page."""
    return ident.rsplit(":", 1)[0] if ident.count(":") >= 2 else ident or "-"


def _lease_row() -> dict:
    rows = BeatLease.objects.filter(name=LEASE_NAME).annotate(now=Now())
    row = rows.values("holder", "expires_at", "now").first()
    if row is None:  # first beat ever (or the row was deleted): an expired, unheld lease
        BeatLease.objects.get_or_create(name=LEASE_NAME, defaults={"expires_at": _NEVER})
        row = rows.values("holder", "expires_at", "now").get()
    return row


def lease_take(ident: str, *, seconds: float) -> LeaseState:
    """Take the lease if it is free, expired or ours, until `seconds` from now (database
    time); of two beats trying at once, the conditional UPDATE lets one win."""
    row = _lease_row()
    now = row["now"]
    expires = now + dt.timedelta(seconds=seconds)
    held = BeatLease.objects.filter(
        Q(holder=ident) | Q(expires_at__lt=now), name=LEASE_NAME,
    ).update(holder=ident, expires_at=expires)
    if held:
        return LeaseState(True, ident, expires, now)
    return LeaseState(False, row["holder"], row["expires_at"], now)


def lease_release(ident: str) -> None:
    BeatLease.objects.filter(name=LEASE_NAME, holder=ident).update(expires_at=_NEVER)


def presence_record(*, ident: str, host: str, pid: int, now: dt.datetime,
                    leading_until: dt.datetime | None) -> None:
    if BeatProcess.objects.filter(ident=ident).update(last_seen=now, leading_until=leading_until):
        return
    BeatProcess.objects.filter(last_seen__lt=now - _FORGET_AFTER).delete()
    BeatProcess.objects.create(ident=ident, host=host, pid=pid, started_at=now, last_seen=now,
                               leading_until=leading_until)


class LeasedDatabaseScheduler(DatabaseScheduler):
    """CELERY_BEAT_SCHEDULER: sends only while it holds the lease, else checks it and waits."""

    def __init__(self, *args, **kwargs):
        self.ident, self.host, self.pid = process_ident()
        self.lease_seconds = float(settings.CRM_BEAT_LEASE_SECONDS)
        self.check_seconds = float(settings.CRM_BEAT_CHECK_SECONDS)
        self.leading = False
        self._valid_until = 0.0  # monotonic: our lease is trusted until then
        self._next_check = 0.0  # monotonic
        self._holder_seen: str | None = None  # the other holder last logged
        super().__init__(*args, **kwargs)
        # Write an entry's last run right after sending it: a beat taking over reads it.
        self.sync_every_tasks = 1

    def tick(self, *args, **kwargs) -> float:
        if time.monotonic() >= self._next_check or (
                self.leading and time.monotonic() >= self._valid_until):
            self.lease_check()
        if not (self.leading and time.monotonic() < self._valid_until):
            return max(self._next_check - time.monotonic(), 0.1)
        delay = super().tick(*args, **kwargs)
        return max(min(delay, self._next_check - time.monotonic()), 0)

    def populate_heap(self, *args, **kwargs) -> None:
        super().populate_heap(*args, **kwargs)
        # The heap now holds the schedule as just read, and that is the schedule the next tick
        # must compare with. When the schedule changed *during* this rebuild (another beat
        # starting up writes its default entries), django-celery-beat re-read it in the middle
        # (new entry objects, heap marked stale) while the tick had already copied the old one;
        # the next tick then saw a difference and rebuilt the heap from those new entries,
        # whose last run predates the send just made: the same job went out twice (seen with
        # two real beats, 20 ms apart).
        self.old_schedulers = copy.copy(self._schedule)
        self._heap_invalidated = False

    def lease_check(self) -> None:
        """Take or renew the lease, record this process; switch between sending and standby."""
        started = time.monotonic()
        self._next_check = started + self.check_seconds
        try:
            state = lease_take(self.ident, seconds=self.lease_seconds)
            presence_record(ident=self.ident, host=self.host, pid=self.pid, now=state.now,
                            leading_until=state.expires_at if state.held else None)
        except (DatabaseError, InterfaceError) as error:
            # Unknown: do not send (the run could not be recorded anyway); retry next check.
            logger.warning("Beat %s: cannot check the beat lease (%s); not sending until it can",
                           ident_label(self.ident), error)
            close_old_connections()
            self._stand_by(None)
            return
        if state.held:
            self._valid_until = started + self.lease_seconds - min(_SAFETY, self.lease_seconds / 5)
            if not self.leading:
                self._take_over(state)
        else:
            self._stand_by(state)

    def _take_over(self, state: LeaseState) -> None:
        until = state.expires_at.isoformat(timespec="seconds")
        if self._holder_seen:
            logger.warning("Beat %s takes over from beat %s (its lease ran out or was given "
                           "back): it now sends the periodic tasks (lease until %s)",
                           ident_label(self.ident), ident_label(self._holder_seen), until)
        else:
            logger.warning("Beat %s holds the beat lease: it sends the periodic tasks (lease "
                           "until %s)", ident_label(self.ident), until)
        self.leading, self._holder_seen = True, None
        # Re-read every entry: the previous holder's runs (last run, count) are in the database.
        self._dirty.clear()
        self._initial_read, self._heap = True, None

    def _stand_by(self, state: LeaseState | None) -> None:
        holder = state.holder if state is not None else ""
        if self.leading and state is not None:  # (a database error was logged by the caller)
            logger.warning("Beat %s lost the beat lease (now held by %s): standing by",
                           ident_label(self.ident), ident_label(holder))
        if self.leading:
            self._dirty.clear()  # what we sent is saved; nothing stale may be written now
        elif state is not None and holder != self._holder_seen:
            logger.warning(
                "Beat %s stands by: beat %s holds the lease and sends the periodic tasks; "
                "checking every %d s, taking over if it stops", ident_label(self.ident),
                ident_label(holder), self.check_seconds)
        self.leading, self._valid_until = False, 0.0
        if state is not None:
            self._holder_seen = holder

    def close(self) -> None:
        """Stopping cleanly: give the lease back at once (a standby takes over at its next
        check) and leave the status page."""
        try:
            super().close()
        finally:
            try:
                if self.leading:
                    lease_release(self.ident)
                BeatProcess.objects.filter(ident=self.ident).delete()
            except (DatabaseError, InterfaceError):
                logger.exception("Beat %s: could not give the lease back; it expires by itself",
                                 ident_label(self.ident))
            self.leading = False


# --- /status/ ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class BeatSeen:
    label: str  # host:pid
    sending: bool
    seconds_ago: float


def beats_seen(window: dt.timedelta = SEEN_WINDOW) -> list[BeatSeen]:
    """Beat processes that checked in within `window` (database clock), sending ones first."""
    since = ExpressionWrapper(Now() - Value(window), output_field=DateTimeField())
    rows = (BeatProcess.objects.filter(last_seen__gte=since).annotate(now=Now())
            .order_by("host", "pid").values("host", "pid", "last_seen", "leading_until", "now"))
    seen = [BeatSeen(label=f"{row['host']}:{row['pid']}",
                     sending=row["leading_until"] is not None and row["leading_until"] > row["now"],
                     seconds_ago=(row["now"] - row["last_seen"]).total_seconds())
            for row in rows]
    return sorted(seen, key=lambda beat: not beat.sending)


@dataclass(frozen=True)
class BeatsCheck(Check):
    """A check that may pass with a warning (shown, but the page still answers 200)."""

    warning: bool = False

    @property
    def label(self) -> str:
        return _("Beat processes")


def _describe(beat: BeatSeen, check_seconds: float) -> str:
    if beat.sending:
        return _("%(process)s (sending)") % {"process": beat.label}
    if beat.seconds_ago <= 3 * check_seconds:
        return _("%(process)s (standby)") % {"process": beat.label}
    return _("%(process)s (silent for %(seconds)d s)") % {"process": beat.label,
                                                         "seconds": beat.seconds_ago}


def beats_verdict(seen: list[BeatSeen], check_seconds: float | None = None) -> BeatsCheck:
    """One sending: fine. A standby beside it: a warning (harmless, but someone should know).
    None sending, or two at once (the lease bypassed): a failure."""
    check_seconds = check_seconds or settings.CRM_BEAT_CHECK_SECONDS
    names = ", ".join(_describe(beat, check_seconds) for beat in seen)
    sending = [beat for beat in seen if beat.sending]
    if not seen:
        return BeatsCheck("beats", False, _(
            "no beat process has checked in for %(minutes)d minutes") % {
                "minutes": SEEN_WINDOW.total_seconds() // 60})
    if len(sending) > 1:
        return BeatsCheck("beats", False, ngettext(
            "%(count)d beat process sending at once: %(processes)s",
            "%(count)d beat processes sending at once: %(processes)s",
            len(sending)) % {"count": len(sending), "processes": names})
    if not sending:
        return BeatsCheck("beats", False, _("no beat process is sending: %(processes)s") % {
            "processes": names})
    if len(seen) == 1:
        return BeatsCheck("beats", True, names)
    return BeatsCheck("beats", True, ngettext(
        "%(count)d beat process running: %(processes)s",
        "%(count)d beat processes running: %(processes)s",
        len(seen)) % {"count": len(seen), "processes": names}, warning=True)
