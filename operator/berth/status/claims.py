"""Who gets a contested name: the decision a reconcile takes for one claim, from what it sees."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from berth.api.claim import ClaimOwner


class Decision(StrEnum):
    HELD = "Held"  # the claim is ours
    TAKEN = "Taken"  # another live service holds it
    STALE = "Stale"  # its holder is gone without releasing it: delete the claim, then claim
    WAIT = "Wait"  # no claim yet, but an older service wants the name too: it goes first
    CREATE = "Create"  # no claim and nobody older wants it: create one; the API server decides


@dataclass(frozen=True)
class Claimant:
    """A service that wants a name, ordered by creation time (then namespace and name)."""

    namespace: str
    name: str
    uid: str
    created: datetime | None

    def precedes(self, other: "Claimant") -> bool:
        mine = (self.created is None, self.created or datetime.min, self.namespace, self.name)
        theirs = (other.created is None, other.created or datetime.min, other.namespace, other.name)
        return mine < theirs


def decide(
    me: Claimant, holder: ClaimOwner | None, holder_alive: bool, contenders: list[Claimant]
) -> Decision:
    """`holder` of the existing claim (None: no claim); `contenders`: other services wanting it.

    A holder keeps its name for as long as it lives, whoever is older: no service takes another
    one's traffic. Only a free name goes to the oldest claimant.
    """
    if holder is not None:
        if holder.uid == me.uid:
            return Decision.HELD
        return Decision.TAKEN if holder_alive else Decision.STALE
    if any(c.uid != me.uid and c.precedes(me) for c in contenders):
        return Decision.WAIT
    return Decision.CREATE


def why_not(decision: Decision, domain: str, claim_name: str) -> str:
    """Why a service does not hold `domain`, as its status says it."""
    if decision == Decision.TAKEN:
        return f"{domain} is already claimed by another service (DomainClaim {claim_name})"
    if decision == Decision.WAIT:
        return f"{domain} is also asked for by an older service, which gets it first"
    return f"{domain} is contested; trying again"
