"""The demo commune, modelled on Tú Lệ (Văn Chấn, Yên Bái): 9 villages, 12 clusters, 24 speakers, 3 users.

The commune sits in its province and district with their administrative unit codes as they stood before
the reorganisation of 1 July 2025 (which merged Yên Bái into Lào Cai and abolished districts): Yên Bái 15
and Văn Chấn 140 are the General Statistics Office codes; the commune code 04630 for Tú Lệ is taken from
a public list of unit codes and has not been checked against the official register (Quyết định
124/2004/QĐ-TTg and its updates): check it before relying on it.

Owns the demo data only; must not start anything. Running it twice with the same password changes
nothing: device passwords are derived from the demo password and the device id, so a second run can hand
them back without storing them.
"""

import base64
import hashlib
import hmac
import logging
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Area, Commune, Device, User, Village
from controller.mqtt.accounts import hash_password
from controller.services.areas import create_area, move_area
from controller.services.devices import provision_device
from controller.services.places import create_commune, create_village
from controller.services.users import create_user

log = logging.getLogger(__name__)

COMMUNE_ID: Final = "tule"
COMMUNE_NAME: Final = "Xã Tú Lệ"
COMMUNE_CODE: Final = "04630"
# (code, name, level, parent) above the commune.
ABOVE: Final = (("15", "Tỉnh Yên Bái", "province", None), ("140", "Huyện Văn Chấn", "district", "15"))
# (id, name, languages of the listeners): Thái in the valley, Mông up the slopes, Dao in a few hamlets.
VILLAGES: Final = (
    ("ban-lim", "Bản Lìm", ("vi", "thai")),
    ("ban-phinh", "Bản Phình", ("vi", "thai")),
    ("khau-than", "Khau Thán", ("vi", "thai", "mong")),
    ("ban-co", "Bản Có", ("vi", "thai")),
    ("na-hang-tua-chu", "Nả Háng Tủa Chử", ("vi", "mong")),
    ("na-hang-tau", "Nả Háng Tâu", ("vi", "mong")),
    ("giang-cai", "Giàng Cài", ("vi", "mong")),
    ("phinh-ho", "Phình Hồ", ("vi", "mong", "dao")),
    ("tang-ghenh", "Tặng Ghênh", ("vi", "dao")),
)
# Cluster number → village; the larger valley villages have two clusters each.
CLUSTERS: Final = (
    "ban-lim", "ban-lim", "ban-phinh", "khau-than", "ban-co", "ban-co",
    "na-hang-tua-chu", "na-hang-tau", "giang-cai", "phinh-ho", "phinh-ho", "tang-ghenh",
)  # fmt: skip
SPEAKERS_PER_CLUSTER: Final = 2
USERS: Final = (("admin", "admin"), ("operator", "operator"), ("approver", "approver"))


def demo_device_password(password: str, device_id: str) -> str:
    """The demo MQTT password of a device: derived from the demo password, so re-runs agree."""
    digest = hmac.new(password.encode("utf-8"), device_id.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _matches(password: str, mosquitto_hash: str) -> bool:
    """Whether `password` fits a mosquitto `$7$` hash (PBKDF2-SHA512)."""
    parts = mosquitto_hash.split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False
    iterations, salt, digest = int(parts[2]), base64.b64decode(parts[3]), base64.b64decode(parts[4])
    candidate = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return hmac.compare_digest(candidate, digest)


def seed_demo(session: Session, now: datetime, password: str) -> dict[str, str]:
    """Create the demo commune if missing; returns {device id: MQTT password} for the simulated agents."""
    for code, name, level, parent in ABOVE:
        if session.get(Area, code) is None:
            create_area(session, now, code=code, name=name, level=level, parent=parent, actor="seed")
    commune = session.get(Commune, COMMUNE_ID)
    if commune is None:
        create_commune(session, COMMUNE_ID, COMMUNE_NAME, now, code=COMMUNE_CODE, parent=ABOVE[-1][0])
    else:  # seeded before areas existed: its area (code "tule") goes under the district
        area = session.get(Area, commune.area_code)
        if area is not None and area.parent_code is None:
            move_area(session, now, area.code, ABOVE[-1][0], actor="seed")
    for village_id, name, languages in VILLAGES:
        if session.get(Village, village_id) is None:
            create_village(session, village_id, now, name=name, commune_id=COMMUNE_ID, languages=languages)
    for username, role in USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(session, username, password, role, now, commune_id=COMMUNE_ID, actor="seed")
    passwords: dict[str, str] = {}
    village_names = dict((v[0], v[1]) for v in VILLAGES)
    for number, village_id in enumerate(CLUSTERS, start=1):
        device_id = f"{COMMUNE_ID}-c{number:02d}"
        passwords[device_id] = demo_device_password(password, device_id)
        device = session.get(Device, device_id)
        if device is None:
            provision_device(
                session,
                device_id,
                now,
                name=f"Cụm loa {number:02d} – {village_names[village_id]}",
                village_id=village_id,
                speakers=SPEAKERS_PER_CLUSTER,
                actor="seed",
            )
            device = session.get(Device, device_id)
        if device is not None and not _matches(passwords[device_id], device.mqtt_password_hash):
            device.mqtt_password_hash = hash_password(passwords[device_id])
    session.flush()
    log.info("demo commune %s ready: %s villages, %s clusters", COMMUNE_ID, len(VILLAGES), len(CLUSTERS))
    return passwords
