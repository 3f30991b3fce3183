# SPDX-License-Identifier: AGPL-3.0-or-later
"""What `creneau demo` shows: every check, opening, delivery and captcha waiting for a person.

`DemoView` collects the service's reports (`on_check`, `on_delivery`), the sinks' counts and the captcha
desk's pending challenges. In a terminal it renders one Rich screen (`render()`, redrawn by `rich.Live`);
elsewhere (a pipe, a test) it prints one line per event instead (`live=False`). It never touches the
store or the network: the demo feeds it.
"""

from __future__ import annotations

import io
import logging
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from creneau.detector import TransitionKind
from creneau.monitor.runner import CheckReport
from creneau.notify.sender import DeliveryReport
from creneau.sim.clock import Clock
from creneau.sources.captcha import CaptchaChallenge
from creneau.store import DeliveryStatus
from creneau.types import PARIS, Outcome

OUTCOME_WORDS: dict[Outcome, tuple[str, str]] = {
    Outcome.SLOTS_AVAILABLE: ("slots available", "bold green"),
    Outcome.NO_SLOTS: ("no slot (the site says so)", "dim"),
    Outcome.HUMAN_CHECK_REQUIRED: ("needs a human check (captcha)", "bold yellow"),
    Outcome.SESSION_EXPIRED: ("site session expired", "yellow"),
    Outcome.BLOCKED: ("blocked by the site", "red"),
    Outcome.RATE_LIMITED: ("asked to slow down", "red"),
    Outcome.UNAVAILABLE: ("site unavailable", "red"),
    Outcome.LAYOUT_UNKNOWN: ("page not recognised (kept for review)", "magenta"),
    Outcome.NETWORK_ERROR: ("network error", "red"),
}
CHANNELS = ("email", "telegram", "ntfy", "webhook")
_EVENTS_KEPT = 6
_OPENINGS_KEPT = 6


@dataclass(slots=True)
class TargetRow:
    """The last check of one target, as shown."""

    name: str
    system: str
    checks: int = 0
    at: datetime | None = None
    outcome: Outcome | None = None
    evidence: str = ""
    slots: int = 0
    next_at: datetime | None = None


@dataclass(slots=True)
class Totals:
    """Everything counted since the start (what `creneau demo` prints when it stops)."""

    checks: int = 0
    by_outcome: Counter[str] = field(default_factory=Counter)
    openings: int = 0
    alerts: int = 0
    enqueued: int = 0
    sent: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    captchas: set[str] = field(default_factory=set)


def hhmmss(when: datetime | None) -> str:
    return when.astimezone(PARIS).strftime("%H:%M:%S") if when is not None else "—"


class DemoView:
    """`names` maps target ids to what the view calls them; `received()` counts each sink's messages."""

    def __init__(
        self,
        console: Console,
        clock: Clock,
        names: Mapping[str, tuple[str, str]],
        received: Callable[[], Mapping[str, int]],
        *,
        live: bool,
        header: Sequence[str] = (),
    ) -> None:
        self.console = console
        self.clock = clock
        self.live = live
        self.header = list(header)
        self.notes: list[str] = []
        self.rows = {tid: TargetRow(name, system) for tid, (name, system) in names.items()}
        self.received = received
        self.totals = Totals()
        self.events: deque[Text] = deque(maxlen=_EVENTS_KEPT)
        self.openings: deque[tuple[str, ...]] = deque(maxlen=_OPENINGS_KEPT)
        self.captchas: list[CaptchaChallenge] = []
        self.captcha_hint = ""
        self.image_of: Callable[[str], Path] = lambda challenge_id: Path(challenge_id)

    # --- reports from the service ---------------------------------------------------------------
    def on_check(self, report: CheckReport) -> None:
        obs = report.observation
        row = self.rows.setdefault(report.target_id, TargetRow(report.target_id, "?"))
        row.checks += 1
        row.at, row.outcome, row.evidence = obs.checked_at, obs.outcome, obs.evidence
        row.slots, row.next_at = len(obs.slots), report.next_check_at
        totals = self.totals
        totals.checks += 1
        totals.by_outcome[obs.outcome.value] += 1
        totals.enqueued += report.deliveries
        words, style = OUTCOME_WORDS[obs.outcome]
        if not self.live:
            self._line(f"check  {row.name}: {words} — {obs.evidence}", style)
        for transition in report.transitions:
            if transition.kind is TransitionKind.OPENED:
                totals.openings += 1
            if transition.alerts:
                totals.alerts += 1
            first = min((s.start for s in transition.new_slots or transition.slots), default=None)
            what = {
                TransitionKind.OPENED: f"OPENING: {len(transition.new_slots)} slot(s), first {_when(first)}",
                TransitionKind.NEW_SLOTS: f"{len(transition.new_slots)} new slot(s), first {_when(first)}",
                TransitionKind.CLOSED: "all slots gone (opening closed)",
            }[transition.kind]
            queued = f"{report.deliveries} deliveries queued" if transition.alerts else ""
            self.openings.append((hhmmss(transition.at), row.name, what, queued))
            if not self.live:
                self._line(f"{hhmmss(transition.at)}  {row.name}: {what} {queued}", "bold green")

    def on_delivery(self, report: DeliveryReport) -> None:
        if report.status is DeliveryStatus.SENT:
            self.totals.sent[report.kind] += 1
            if not self.live:
                self._line(f"sent   {report.kind} alert (delivery {report.delivery_id})", "green")
        else:
            self.totals.failed[report.kind] += 1
            self._event(f"{hhmmss(report.at)}  {report.kind} delivery {report.delivery_id}: {report.error}", "red")

    def on_captchas(self, pending: Sequence[CaptchaChallenge]) -> None:
        for challenge in pending:
            if challenge.id not in self.totals.captchas:
                self.totals.captchas.add(challenge.id)
                name = self.rows[challenge.target_id].name if challenge.target_id in self.rows else challenge.target_id
                self._event(
                    f"{hhmmss(challenge.created_at)}  {name} needs a human check: captcha {challenge.id}, "
                    f"image {self.image_of(challenge.id)}",
                    "yellow",
                )
                if not self.live and self.captcha_hint:
                    self._line(self.captcha_hint.format(id=challenge.id), "yellow")
        self.captchas = list(pending)

    def note(self, text: str, style: str = "") -> None:
        self._event(text, style)

    def _event(self, text: str, style: str) -> None:
        text = text.strip().splitlines()[0] if text.strip() else ""
        self.events.append(Text(text, style=style, no_wrap=True, overflow="ellipsis"))
        if not self.live:
            self.console.print(Text(text, style=style), soft_wrap=True)

    def _line(self, text: str, style: str) -> None:
        self.console.print(Text(text, style=style), soft_wrap=True)

    # --- the screen ------------------------------------------------------------------------------
    def render(self) -> RenderableType:
        now = self.clock.now()
        title = f"creneau demo — scenario time {hhmmss(now)} (Paris)"
        head = Text("\n".join(self.header + self.notes), style="dim")
        parts: list[RenderableType] = [head, self._targets(), self._openings(), self._deliveries()]
        if self.captchas:
            parts.append(self._captcha_panel(now))
        parts.append(Panel(Group(*self.events) if self.events else Text("nothing yet", style="dim"), title="events"))
        return Panel(Group(*parts), title=title, border_style="blue")

    def _targets(self) -> Table:
        table = Table(expand=True, box=None, header_style="bold", pad_edge=False)
        for name, kw in (("target", {"ratio": 3}), ("system", {}), ("checked", {}), ("outcome", {"ratio": 3}),
                         ("evidence", {"ratio": 3}), ("next check", {})):  # fmt: skip
            table.add_column(name, overflow="ellipsis", no_wrap=True, **kw)  # type: ignore[arg-type]
        for row in self.rows.values():
            words, style = OUTCOME_WORDS[row.outcome] if row.outcome else ("not checked yet", "dim")
            if row.outcome is Outcome.SLOTS_AVAILABLE:
                words = f"{row.slots} slot(s) available"
            table.add_row(row.name, row.system, hhmmss(row.at), Text(words, style), row.evidence, hhmmss(row.next_at))
        return table

    def _openings(self) -> Panel:
        if not self.openings:
            return Panel(Text("none yet: creneau alerts only on slots it sees", style="dim"), title="openings")
        table = Table(expand=True, box=None, show_header=False, pad_edge=False)
        for ratio in (1, 4, 5, 2):
            table.add_column(ratio=ratio, no_wrap=True, overflow="ellipsis")
        for row in reversed(self.openings):
            table.add_row(*row, style="green" if row[3] else "dim")
        return Panel(table, title="openings (newest first)")

    def _deliveries(self) -> Table:
        received = self.received()
        totals = self.totals
        table = Table(box=None, header_style="bold", pad_edge=False, title_justify="left")
        table.add_column(f"checks {totals.checks} · openings {totals.openings} · alerts {totals.alerts}")
        for kind in CHANNELS:
            table.add_column(kind, justify="right")
        table.add_row("sent by creneau", *(str(totals.sent[k]) for k in CHANNELS))
        table.add_row("received at the local sink", *(str(received.get(k, 0)) for k in CHANNELS))
        if any(totals.failed.values()):
            table.add_row("failed (retried)", *(str(totals.failed[k]) for k in CHANNELS))
        return table

    def _captcha_panel(self, now: datetime) -> Panel:
        lines = [Text("creneau never solves a captcha: a person reads the image and types the code.", style="dim")]
        for challenge in self.captchas:
            name = self.rows[challenge.target_id].name if challenge.target_id in self.rows else challenge.target_id
            left = max(0, int((challenge.expires_at - now).total_seconds()))
            lines.append(
                Text(f"{challenge.id}  {name}  expires in {left // 60}m{left % 60:02d}s  {self.image_of(challenge.id)}")
            )
        if self.captcha_hint:
            lines.append(Text(self.captcha_hint.format(id=self.captchas[0].id), style="bold"))
        return Panel(Group(*lines), title="captcha desk: needs a human check", border_style="yellow")

    def summary(self, received: Mapping[str, int]) -> str:
        totals = self.totals
        outcomes = ", ".join(f"{k} {v}" for k, v in totals.by_outcome.most_common()) or "none"
        got = ", ".join(f"{k} {received.get(k, 0)}" for k in CHANNELS)
        return (
            f"{totals.checks} checks ({outcomes}); {totals.openings} openings, {totals.alerts} alerts; "
            f"messages received: {got}; captchas filed: {len(totals.captchas)}"
        )


def _when(start: datetime | None) -> str:
    return start.astimezone(PARIS).strftime("%a %d/%m %H:%M") if start is not None else "—"


def captcha_preview(image: bytes, width: int) -> Text:
    """The captcha image drawn with half blocks, for the person to read (nothing here reads it)."""
    from PIL import Image

    with Image.open(io.BytesIO(image)) as opened:
        picture = opened.convert("RGB")
    width = max(20, min(width, picture.width))
    height = max(2, round(picture.height * width / picture.width / 2) * 2)
    rgb = picture.resize((width, height)).tobytes()  # 3 bytes a pixel, row after row
    text = Text()
    for y in range(0, height, 2):
        for x in range(width):
            top, bottom = (y * width + x) * 3, ((y + 1) * width + x) * 3
            text.append("▀", style=f"rgb({rgb[top]},{rgb[top + 1]},{rgb[top + 2]}) on "
                                   f"rgb({rgb[bottom]},{rgb[bottom + 1]},{rgb[bottom + 2]})")  # fmt: skip
        text.append("\n")
    return text


class ViewLogHandler(logging.Handler):
    """Shows the service's warnings (backoffs, pauses, unknown layouts) as events of the view."""

    def __init__(self, view: DemoView) -> None:
        super().__init__(logging.WARNING)
        self.view = view

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.view.note(f"{hhmmss(self.view.clock.now())}  {record.getMessage()}", "yellow")
        except Exception:  # noqa: BLE001 - a logging handler must never raise into the code that logged
            self.handleError(record)
