"""What the agent reports about its programme: plays' ends and what they aired, held and unplayable items.

Owns turning outcomes into outbox events and closing items in the programme; the loop (edge_agent.agent)
decides when. It must not play, fetch or publish anything itself (the outbox publishes).
"""

from datetime import datetime

from edge_agent.outbox import Outbox
from edge_agent.playback import Playback
from edge_agent.programme import Programme
from edge_agent.schedule import Progress
from protocol import PlanBody, PlanItem, SourcedItem, UnknownSource
from protocol.messages import EventSource


def report_notes(outbox: Outbox, play: Playback, plan_version: int | None) -> None:
    """Report what a PCM play saw since the last call: the stream it started on, gaps, dead air."""
    source = _source(play)
    for note in play.take_notes():
        span = None if note.start is None or note.end is None else (note.start, note.end)
        outbox.emit(
            note.kind, item=play.item, item_id=None if play.item or play.session else play.item_id,
            plan_version=plan_version, session=play.session, url=note.url, span=span, dead_air=note.dead_air,
            reason=note.reason, detail=note.detail, source=source,
        )  # fmt: skip


def _source(play: Playback) -> EventSource | None:
    """What a play airs, for its events: a live session, a relay, or (None) a file."""
    return "live" if play.session else "relay" if isinstance(play.item, SourcedItem) else None


def _report_live(outbox: Outbox, play: Playback) -> None:
    """A live session's play ended: `finished` when its source ended or it was stopped, else `interrupted`."""
    if play.outcome == "interrupted" and play.reason == "live_stop":
        outbox.emit("finished", session=play.session, reason="live_stop", source="live")
    else:
        outbox.emit(play.outcome, session=play.session, reason=play.reason, detail=play.detail, source="live")


def report_outcome(
    outbox: Outbox, programme: Programme, play: Playback, plan_version: int | None, now: datetime
) -> None:
    """Report a finished play (a test tone, a live session, or an item: its plays counted or it is closed)."""
    item = play.item
    if play.session is not None:
        _report_live(outbox, play)
        return
    if item is None:
        if play.outcome == "finished":
            outbox.emit("finished", item_id=play.item_id, detail="test_tone")
        else:
            outbox.emit("interrupted", item_id=play.item_id, reason=play.reason, detail="test_tone")
        return
    if play.outcome == "finished":
        count = programme.record_play(item, now)
        outbox.emit(
            "finished", item=item, plan_version=plan_version, detail=f"play {count.plays}/{count.repeat}",
            source=_source(play),
        )  # fmt: skip
    elif play.outcome == "interrupted":
        reason = play.reason or "stopped"
        outbox.emit("interrupted", item=item, plan_version=plan_version, reason=reason, source=_source(play))
        if reason in ("stopped", "cancelled"):
            programme.close(item.item_id, reason)
    else:
        outbox.emit(
            "failed", item=item, plan_version=plan_version, reason=play.reason, detail=play.detail,
            source=_source(play),
        )  # fmt: skip
        programme.close(item.item_id, "failed")


def report_held(
    outbox: Outbox, held: tuple[PlanItem, ...], reported: set[str], plan_version: int | None
) -> None:
    """Report each item held by an untrusted clock once per unsynchronised spell (it is not closed)."""
    for item in held:
        if item.item_id not in reported:
            reported.add(item.item_id)
            outbox.emit(
                "skipped", item=item, plan_version=plan_version, reason="clock_unsynced",
                detail="held until the clock is synchronised",
            )  # fmt: skip


def skip_unsupported(outbox: Outbox, programme: Programme, plan: PlanBody, agent_version: str) -> None:
    """Report, once each, the items whose source this agent cannot play (it plays the rest)."""
    for item in plan.sourced:
        if (
            not isinstance(item.source, UnknownSource)
            or programme.progress.get(item.item_id, Progress()).closed
        ):
            continue
        outbox.emit(
            "skipped", item=item, plan_version=plan.version, reason="unsupported_source",
            detail=f"source {item.source.kind!r} is not played by agent {agent_version}",
        )  # fmt: skip
        programme.close(item.item_id, "unsupported_source")
