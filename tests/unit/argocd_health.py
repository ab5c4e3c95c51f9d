"""Runs argocd/health-containerservice.lua as Argo CD does: `obj` in, {status, message} out.

Lua 5.1, the language of gopher-lua that Argo CD embeds, without `os` and `io`.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any, NamedTuple

import lupa.lua51

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO / "argocd" / "health-containerservice.lua"
FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures" / "status"
HEALTH_STATUSES = {"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}


class Health(NamedTuple):
    status: str
    message: str


def health(obj: dict[str, Any]) -> Health:
    lua = lupa.lua51.LuaRuntime(unpack_returned_tuples=False)
    lua.execute("os = nil; io = nil; require = nil; dofile = nil; loadfile = nil")
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(SCRIPT.read_text())
    return Health(str(result["status"]), str(result["message"] or ""))


def sample(obj: dict[str, Any]) -> dict[str, Any]:
    """What a fixture keeps of a live ContainerService: what Argo CD's check can read."""
    meta = obj["metadata"]
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "metadata": {"name": meta["name"], "generation": meta["generation"]},
        "spec": obj["spec"],
        "status": obj.get("status") or {},
    }


def fixture(case: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{case}.json").read_text())
    return loaded


def write_fixture(case: str, obj: dict[str, Any]) -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    text = json.dumps(sample(obj), indent=2, sort_keys=True) + "\n"
    (FIXTURES / f"{case}.json").write_text(text)
