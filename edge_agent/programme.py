"""What the agent should play and how far it got: plan, pending emergencies, per-item progress, ready assets.

Owns that in-memory view and keeps it in step with the state database (progress, emergencies, asset
index). Only the agent's loop thread uses it. It must not play, publish or download anything.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from edge_agent.downloader import asset_path
from edge_agent.intake import read_plan
from edge_agent.schedule import Decision, Emergency, Progress, decide, play_span
from edge_agent.state import State
from protocol import Asset, PlanBody, PlanItem, ProtocolError, SourcedItem, StreamSource, Verifier

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlayCount:
    """An item's completed plays out of its repeats."""

    plays: int
    repeat: int

    @property
    def done(self) -> bool:
        """True when every repeat has played."""
        return self.plays >= self.repeat


class Programme:
    """The plan, the emergencies and the progress, as the schedule needs them."""

    def __init__(self, state: State, cache_dir: Path) -> None:
        self._state = state
        self._cache_dir = cache_dir
        self.plan: PlanBody | None = None
        self.emergencies: list[Emergency] = []
        self.progress: dict[str, Progress] = {}
        self.ready: set[str] = set()

    def restore(self, verifier: Verifier) -> None:
        """Load what the last run left: the stored plan (verified again), emergencies, progress, cache."""
        envelope = self._state.plan_envelope()
        if envelope is not None:
            try:
                self.plan = read_plan(verifier, envelope)[1]
            except ProtocolError as exc:
                log.warning("stored plan no longer verifies (%s); waiting for a new one", exc)
        self.emergencies = [
            Emergency(PlanItem.from_json(e.item_json), e.repeat, e.gap_s) for e in self._state.emergencies()
        ]
        self.progress = self._state.progress()
        self.ready = {sha for sha, _ in self._state.assets() if asset_path(self._cache_dir, sha).exists()}

    @property
    def plan_version(self) -> int | None:
        """The current plan's version, None before the first plan."""
        return None if self.plan is None else self.plan.version

    def decide(self, now: datetime, playing: str | None, *, clock_ok: bool = True) -> Decision:
        """What to start now (schedule.decide over this view)."""
        return decide(
            self.plan,
            self.emergencies,
            now,
            self.progress,
            ready=self.ready,
            playing=playing,
            clock_ok=clock_ok,
        )

    def stream_end(self, item: SourcedItem) -> datetime:
        """When a stream slot stops airing: its end, or its window's close when that comes first."""
        span = None if self.plan is None or item.priority == "emergency" else play_span(self.plan, item)
        return item.ends_at if span is None else min(item.ends_at, span[1])

    def close(self, item_id: str, reason: str) -> None:
        """Close an item for good (skipped, stopped, cancelled, failed)."""
        self._state.close_item(item_id, reason)
        old = self.progress.get(item_id, Progress())
        self.progress[item_id] = Progress(old.plays, old.last_finished, reason)
        self.emergencies = [e for e in self.emergencies if e.item.item_id != item_id]

    def record_play(self, item: PlanItem | SourcedItem, finished: datetime) -> PlayCount:
        """Count one completed play of an item (an emergency's repeat comes from its command)."""
        repeat = next((e.repeat for e in self.emergencies if e.item.item_id == item.item_id), item.repeat)
        count = PlayCount(self.progress.get(item.item_id, Progress()).plays + 1, repeat)
        self._state.record_play(item.item_id, finished, done=count.done)
        self.progress[item.item_id] = Progress(count.plays, finished, "done" if count.done else None)
        if count.done:
            self.emergencies = [e for e in self.emergencies if e.item.item_id != item.item_id]
        return count

    def add_emergency(self, item: PlanItem, repeat: int, gap_s: float) -> None:
        """Queue a `play_now` (replacing an earlier one with the same item id, which plays afresh)."""
        self.emergencies = [e for e in self.emergencies if e.item.item_id != item.item_id]
        self.emergencies.append(Emergency(item, repeat, gap_s))
        self._state.reset_progress(item.item_id)
        self._state.add_emergency(item.to_json(), repeat, gap_s)
        self.progress.pop(item.item_id, None)

    def asset_ready(self, asset: Asset, now: datetime) -> None:
        """An asset is verified in the cache."""
        self._state.add_asset(asset.sha256, asset.bytes, now)
        self.ready.add(asset.sha256)

    def asset_gone(self, sha256: str) -> None:
        """An asset left the cache (evicted or found missing)."""
        self._state.remove_asset(sha256)
        self.ready.discard(sha256)

    def wanted_items(self) -> list[PlanItem]:
        """Items that may still play: pending emergencies and open plan items."""
        items = [e.item for e in self.emergencies]
        if self.plan is not None:
            items += [i for i in self.plan.items if not self.progress.get(i.item_id, Progress()).closed]
        return items

    def wanted_assets(self) -> dict[str, Asset]:
        """Assets that may still play, by sha256: open items' audio and open stream slots' fillers."""
        wanted = {i.asset.sha256: i.asset for i in self.wanted_items()}
        for item in () if self.plan is None else self.plan.sourced:
            open_ = not self.progress.get(item.item_id, Progress()).closed
            if open_ and item.asset is not None and isinstance(item.source, StreamSource):
                wanted[item.asset.sha256] = item.asset
        return wanted

    def missing_assets(self) -> dict[str, Asset]:
        """Assets of wanted items (and fillers) that are not in the cache, by sha256."""
        return {sha: asset for sha, asset in self.wanted_assets().items() if sha not in self.ready}
