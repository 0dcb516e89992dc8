"""A source's policy: what an alert's urgency, severity and certainty make of it in loaxa.

Owns the policy's shape (a pydantic model, stored as JSON with the source) and the decision, a pure
function. Rules are tried in order; the first whose lists all hold the alert's values wins, an empty or
missing list matching anything. Without a match the alert goes to the inbox (a pending bulletin a person
approves). Actions: `emergency` (on air at once, no approver), `priority` (pending, priority, ahead of the
commune's items once approved), `inbox` (pending, normal), `ignore` (logged, nothing made). A Test or
Exercise alert is a drill whatever the rules say; `drill_volume` is the volume it plays at.
"""

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from controller.cap.model import Info
from controller.services.drills import DEFAULT_DRILL_VOLUME

Action = Literal["emergency", "priority", "inbox", "ignore"]
URGENCIES: Final = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES: Final = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES: Final = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")


class Rule(BaseModel):
    """Alerts whose values are in every given list get `action`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    urgency: list[Literal["Immediate", "Expected", "Future", "Past", "Unknown"]] = Field(
        default_factory=list, description="CAP urgency values this rule takes; empty: any"
    )
    severity: list[Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]] = Field(
        default_factory=list, description="CAP severity values this rule takes; empty: any"
    )
    certainty: list[Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]] = Field(
        default_factory=list, description="CAP certainty values this rule takes; empty: any"
    )
    action: Action = Field(description="what a matching alert becomes")

    def matches(self, info: Info) -> bool:
        """Whether the info block's values are all taken by this rule."""
        return (
            (not self.urgency or info.urgency in self.urgency)
            and (not self.severity or info.severity in self.severity)
            and (not self.certainty or info.certainty in self.certainty)
        )


class Policy(BaseModel):
    """The rules of one source, first match wins, and what happens when none matches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[Rule] = Field(default_factory=list, max_length=50, description="tried in order")
    default: Action = Field("inbox", description="the action when no rule matches")
    drill_volume: int = Field(
        DEFAULT_DRILL_VOLUME, ge=0, le=100, strict=True,
        description="the volume 0–100 every cluster plays a Test or Exercise alert's drill at",
    )  # fmt: skip


#: The policy a source gets when the admin gives none: a flash flood at night cannot wait for an approver.
DEFAULT_POLICY: Final = Policy(
    rules=[
        Rule(
            urgency=["Immediate"], severity=["Extreme"], certainty=["Observed", "Likely"], action="emergency"
        ),
        Rule(severity=["Extreme", "Severe"], action="priority"),
    ],
    default="inbox",
)

#: Named policies an admin picks from on the sources page: the default, a person decides everything, or a
#: person decides with Extreme/Severe alerts ahead of the rest (nothing goes on air by itself).
PRESETS: Final[dict[str, Policy]] = {
    "default": DEFAULT_POLICY,
    "people": Policy(rules=[], default="inbox"),
    "priority": Policy(rules=[Rule(severity=["Extreme", "Severe"], action="priority")], default="inbox"),
}

_RANK: Final = {"emergency": 0, "priority": 1, "inbox": 2, "ignore": 3}


def decide(policy: Policy, infos: tuple[Info, ...]) -> Action:
    """The strongest action any info block of the alert earns."""
    actions = [next((r.action for r in policy.rules if r.matches(info)), policy.default) for info in infos]
    return min(actions, key=_RANK.__getitem__) if actions else policy.default
