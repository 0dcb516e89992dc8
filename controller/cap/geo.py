"""Matching a CAP alert's areas to loaxa's villages: by administrative unit code or by polygon.

Owns the geometry and the geocode names (docs/cap.md): `VN-ADMIN` carries a Vietnamese administrative unit
code (province 2 digits, district 3, commune 5) or a village's own code in loaxa's area tree. A polygon
matches the villages whose coordinates lie inside it. Pure functions: the caller reads the area tree.
"""

import itertools
from collections.abc import Iterable, Mapping
from typing import Final

from controller.cap.model import Area

GEOCODE_NAMES: Final = frozenset({"VN-ADMIN"})


def area_codes(areas: Iterable[Area]) -> set[str]:
    """The administrative unit codes named by the areas' geocodes loaxa understands."""
    return {value for area in areas for name, value in area.geocodes if name in GEOCODE_NAMES}


def villages_in_polygons(areas: Iterable[Area], coordinates: Mapping[str, tuple[float, float]]) -> set[str]:
    """The villages (by id) whose (lat, lon) lies inside any polygon of the areas."""
    rings = [polygon for area in areas for polygon in area.polygons]
    return {village for village, point in coordinates.items() if any(inside(point, ring) for ring in rings)}


def inside(point: tuple[float, float], ring: tuple[tuple[float, float], ...]) -> bool:
    """Whether (lat, lon) lies inside the closed ring (even-odd rule; the small areas CAP names are flat)."""
    lat, lon = point
    result = False
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise(ring):
        if (lon1 > lon) != (lon2 > lon):
            crossing = lat1 + (lon - lon1) * (lat2 - lat1) / (lon2 - lon1)
            if lat < crossing:
                result = not result
    return result
