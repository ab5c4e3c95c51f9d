"""What a token grants: the scopes a client asks for (`repository:<name>:<actions>`, as in the
Docker token protocol), cut down to what its login allows. Asking for more is not an error: the
token carries less, and the registry refuses the rest (401 insufficient_scope)."""

from typing import Any

from berth.registry_auth.logins import PULL, PUSH, Login

# Distribution asks for `delete` to delete a manifest: pushers may, pullers may not.
ALLOWED = {PULL: {"pull"}, PUSH: {"pull", "push", "delete"}}


def parse(scope: str) -> tuple[str, str, list[str]] | None:
    """`repository:ns/svc/label:pull,push` → ("repository", "ns/svc/label", ["pull", "push"]);
    the name may hold a port-less `:`-free path only, as Berth's repositories do."""
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    if not kind or not name:
        return None
    return kind, name, [a for a in actions.split(",") if a]


def granted(login: Login, scopes: list[str]) -> list[dict[str, Any]]:
    """The token's `access` claim for `scopes` (each may hold several, space-separated)."""
    allowed: set[str] = set()
    for action in login.actions:
        allowed |= ALLOWED.get(action, set())
    access: list[dict[str, Any]] = []
    for scope in (s for group in scopes for s in group.split()):
        parsed = parse(scope)
        if parsed is None:
            continue
        kind, name, actions = parsed
        if kind != "repository" or not login.reaches(name):
            continue
        given = sorted(set(actions) & allowed)
        if given:
            access.append({"type": kind, "name": name, "actions": given})
    return access
