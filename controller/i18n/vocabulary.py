"""The words for the system's codes that people read: bulletin statuses and the audit trail's actions.

The change history shows `describe_action("bulletin.submit")` ("gửi duyệt"), never the raw code; an
action without a phrase yet is shown as "thao tác khác" with its code, so nothing is hidden.
"""

from typing import Final

from controller.i18n.message import Message

STATUSES: Final = {
    "draft": Message("a draft"),
    "pending": Message("waiting for approval"),
    "approved": Message("approved"),
    "rejected": Message("rejected"),
    "cancelled": Message("cancelled"),
    "done": Message("finished playing"),
    "expired": Message("expired"),
}

ACTIONS: Final = {
    "bulletin.create": Message("wrote the bulletin"),
    "bulletin.edit": Message("edited the bulletin"),
    "bulletin.audio": Message("added or replaced an audio version"),
    "bulletin.submit": Message("sent it for approval"),
    "bulletin.approve_first": Message("gave the first of two approvals (emergency)"),
    "bulletin.approve": Message("approved it"),
    "bulletin.reject": Message("rejected it"),
    "bulletin.cancel": Message("cancelled it"),
    "bulletin.reopen": Message("changed the words after approval: it waits for approval again"),
    "bulletin.finish": Message("every cluster finished playing it"),
    "bulletin.expire": Message("it expired"),
    "bulletin.emergency_one_person": Message("broadcast it at once as an emergency, decided by one person"),
    "area.create": Message("created an area"),
    "area.move": Message("moved an area"),
    "area.rename": Message("renamed an area"),
    "area.retire": Message("retired an area"),
    "commune.create": Message("created a commune"),
    "village.create": Message("created a village"),
    "device.provision": Message("added a loudspeaker cluster"),
    "device.reset_password": Message("gave a cluster a new password"),
    "user.create": Message("created an account"),
    "user.activate": Message("enabled an account"),
    "user.deactivate": Message("disabled an account"),
    "auth.token": Message("signed in to the API"),
    "auth.failed": Message("failed to sign in"),
    "auth.locked": Message("sign-in locked after repeated failures"),
}
OTHER_ACTION: Final = Message("another change ({code})")
API_ACTION: Final = Message("a change through the API ({code})")


def describe_action(code: str) -> Message:
    """The phrase for an audit action code; unknown codes keep their code in brackets."""
    if code in ACTIONS:
        return ACTIONS[code]
    return (API_ACTION if code.startswith("api.") else OTHER_ACTION).with_values(code=code)


def describe_status(code: str) -> Message | str:
    """The phrase for a bulletin status code (the code itself when unknown)."""
    return STATUSES.get(code, code)


ROLES: Final = {
    "admin": Message("administrator"),
    "operator": Message("operator"),
    "approver": Message("approver"),
    "viewer": Message("viewer"),
}


def describe_role(code: str) -> Message | str:
    """The phrase for a role code (the code itself when unknown)."""
    return ROLES.get(code, code)
