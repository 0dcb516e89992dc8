"""What the agent reports about its programme: how a play ended, held items, and items it cannot play.

Owns turning outcomes into outbox events and closing items in the programme; the loop (edge_agent.agent)
decides when. It must not play, fetch or publish anything itself (the outbox publishes).
"""

from datetime import datetime

from edge_agent.outbox import Outbox
from edge_agent.playback import Playback
from edge_agent.programme import Programme
from edge_agent.schedule import Progress
from protocol import PlanBody, PlanItem


def report_outcome(
    outbox: Outbox, programme: Programme, play: Playback, plan_version: int | None, now: datetime
) -> None:
    """Report a finished play (a test tone, or an item, whose plays are counted or which is closed)."""
    item = play.item
    if item is None:
        if play.outcome == "finished":
            outbox.emit("finished", item_id=play.item_id, detail="test_tone")
        else:
            outbox.emit("interrupted", item_id=play.item_id, reason=play.reason, detail="test_tone")
        return
    if play.outcome == "finished":
        count = programme.record_play(item, now)
        outbox.emit(
            "finished", item=item, plan_version=plan_version, detail=f"play {count.plays}/{count.repeat}"
        )
    elif play.outcome == "interrupted":
        reason = play.reason or "stopped"
        outbox.emit("interrupted", item=item, plan_version=plan_version, reason=reason)
        if reason in ("stopped", "cancelled"):
            programme.close(item.item_id, reason)
    else:
        outbox.emit("failed", item=item, plan_version=plan_version, reason=play.reason, detail=play.detail)
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
        if programme.progress.get(item.item_id, Progress()).closed:
            continue
        outbox.emit(
            "skipped", item=item, plan_version=plan.version, reason="unsupported_source",
            detail=f"source {item.source.kind!r} is not played by agent {agent_version}",
        )  # fmt: skip
        programme.close(item.item_id, "unsupported_source")
