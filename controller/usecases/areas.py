"""Area use cases: create, rename, move and retire an area, and import a province's areas from CSV.

Each runs the rules of controller.services.areas in one transaction and commits; a move or a retirement
then announces the clusters under the area, whose targeting changes with it. Must not speak HTTP or SQL.
"""

from collections.abc import Callable, Sequence
from datetime import datetime

from controller.db import Database
from controller.services import area_import, area_tree, areas
from controller.services.areas import AreaView
from controller.usecases._announce import Announcer


class AreaUseCases:
    """The area tree as committed, announced changes."""

    def __init__(self, db: Database, clock: Callable[[], datetime], announcer: Announcer) -> None:
        self._db = db
        self._clock = clock
        self._announce = announcer

    def create(
        self,
        *,
        code: str,
        name: str,
        level: str,
        parent: str | None,
        lat: float | None = None,
        lon: float | None = None,
        languages: Sequence[str] | None = None,
        actor: str | None = None,
    ) -> AreaView:
        """Create an area (a commune or village with its own row)."""
        with self._db.session() as session:
            return areas.create_area(
                session, self._clock(), code=code, name=name, level=level, parent=parent, lat=lat, lon=lon,
                languages=languages, actor=actor,
            )  # fmt: skip

    def rename(self, code: str, name: str, *, actor: str | None = None) -> AreaView:
        """Give an area a new name."""
        return self.change(code, name=name, actor=actor)

    def move(self, code: str, parent: str | None, *, actor: str | None = None) -> AreaView:
        """Put an area under a new parent (None: it stands alone), then announce the clusters under it."""
        return self.change(code, parent=parent, move=True, actor=actor)

    def change(
        self,
        code: str,
        *,
        name: str | None = None,
        parent: str | None = None,
        move: bool = False,
        actor: str | None = None,
    ) -> AreaView:
        """Rename and/or move an area in one transaction: both happen or neither."""
        with self._db.session() as session:
            now = self._clock()
            changed = areas.get_area(session, code)
            if name is not None:
                changed = areas.rename_area(session, now, code, name, actor=actor)
            if move:
                changed = areas.move_area(session, now, code, parent, actor=actor)
            clusters = area_tree.clusters_under(session, code) if move else set()
        for device_id in sorted(clusters):
            self._announce.device(device_id)
        return changed

    def retire(self, code: str, *, actor: str | None = None) -> AreaView:
        """Retire an area nothing depends on any more."""
        with self._db.session() as session:
            return areas.retire_area(session, self._clock(), code, actor=actor)

    def import_csv(self, text: str, *, actor: str | None = None) -> list[AreaView]:
        """Create every area of a CSV file, or none of them."""
        with self._db.session() as session:
            return area_import.import_areas(session, self._clock(), text, actor=actor)
