"""Many deliveries in one go follow `plan_delivery`'s rule (planning runs and province-wide emergencies)."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Delivery
from controller.services import approve, create_bulletin, submit
from controller.services.deliveries import plan_deliveries, plan_delivery, unsend_deliveries
from tests.services.conftest import T0, World


def test_many_deliveries_are_planned_as_one_by_one_would_be(session: Session, world: World) -> None:
    bulletin_id = create_bulletin(
        session, world.operator, T0, title="Tin", text="Nội dung", targets={"all": True}
    ).id
    submit(session, bulletin_id, world.operator, T0)
    approve(session, bulletin_id, world.approver, T0)
    plan_delivery(session, T0, bulletin_id=bulletin_id, device_id="tl-c01", item_id="old", planned_start=T0)
    session.scalars(select(Delivery).where(Delivery.device_id == "tl-c01")).one().state = "played"
    plan_delivery(session, T0, bulletin_id=bulletin_id, device_id="tl-c02", item_id="old", planned_start=T0)
    later = T0 + timedelta(minutes=5)
    plan_deliveries(
        session,
        later,
        [
            (bulletin_id, "tl-c01", "new", later),  # played stays played, with its item
            (bulletin_id, "tl-c02", "new-vi", later),
            (bulletin_id, "tl-c02", "new-thai", later),  # the last item of a device wins, as one by one
            (bulletin_id, "tl-c03", "new", later),
        ],
    )
    session.expire_all()
    rows = {d.device_id: (d.state, d.item_id, d.planned_start) for d in session.scalars(select(Delivery))}
    assert rows == {
        "tl-c01": ("played", "old", T0),
        "tl-c02": ("planned", "new-thai", later),
        "tl-c03": ("planned", "new", later),
    }
    unsend_deliveries(session, [(bulletin_id, "tl-c01"), (bulletin_id, "tl-c03")])
    assert {d.device_id for d in session.scalars(select(Delivery))} == {"tl-c01", "tl-c02"}
