"""Argo CD's health checks for Berth's kinds, in Argo CD's own layout, run as Argo CD runs them.

argocd/resource_customizations/berth.dev/<Kind>/ holds health.lua, health_test.yaml (the tests:
an expected status and message per inputPath) and testdata/*.yaml (objects the real operator
wrote). The Lua runs in Lua 5.1, the language of gopher-lua that Argo CD embeds, without `os`
and `io`: `obj` in, {status, message} out.
"""

from __future__ import annotations

import pathlib
from typing import Any, NamedTuple

import lupa.lua51
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
CUSTOMIZATIONS = REPO / "argocd" / "resource_customizations" / "berth.dev"
KINDS = ("ContainerService", "ContainerServiceDeployment")
HEALTH_STATUSES = {"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}


class Health(NamedTuple):
    status: str
    message: str


class HealthTest(NamedTuple):
    """One item of a health_test.yaml: the health Argo CD must show for one testdata object."""

    input_path: str
    expected: Health


def script(kind: str) -> pathlib.Path:
    return CUSTOMIZATIONS / kind / "health.lua"


def health(obj: dict[str, Any]) -> Health:
    lua = lupa.lua51.LuaRuntime(unpack_returned_tuples=False)
    lua.execute("os = nil; io = nil; require = nil; dofile = nil; loadfile = nil")
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(script(obj["kind"]).read_text())
    return Health(str(result["status"]), str(result["message"] or ""))


def health_tests(kind: str) -> list[HealthTest]:
    loaded = yaml.safe_load((CUSTOMIZATIONS / kind / "health_test.yaml").read_text())
    return [
        HealthTest(
            t["inputPath"], Health(t["healthStatus"]["status"], t["healthStatus"]["message"])
        )
        for t in loaded["tests"]
    ]


def input_path(case: str) -> str:
    return f"testdata/{case}.yaml"


def load(kind: str, path: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CUSTOMIZATIONS / kind / path).read_text())
    return loaded


def stored_inputs(kind: str) -> set[str]:
    folder = CUSTOMIZATIONS / kind
    return {str(p.relative_to(folder)) for p in (folder / "testdata").glob("*.yaml")}


def sample(obj: dict[str, Any]) -> dict[str, Any]:
    """What testdata keeps of a live object: what Argo CD's check can read."""
    meta = obj["metadata"]
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "metadata": {"name": meta["name"], "generation": meta["generation"]},
        "spec": obj["spec"],
        "status": obj.get("status") or {},
    }


def dump(data: dict[str, Any], sort_keys: bool = True) -> str:
    # Wide lines: an operator's message stays on one line, as greppable as the operator wrote it.
    return yaml.safe_dump(data, sort_keys=sort_keys, width=10_000, allow_unicode=True)


def stage(staging: pathlib.Path, case: str, obj: dict[str, Any], got: Health) -> None:
    """Keep a live object and the health it showed in `staging`, for tests/e2e/capture_status.py;
    a test run never writes the reviewed testdata itself."""
    folder = staging / obj["kind"]
    folder.mkdir(parents=True, exist_ok=True)
    captured = {"object": sample(obj), "health": got._asdict()}
    (folder / f"{case}.yaml").write_text(dump(captured))


def write_testdata(case: str, obj: dict[str, Any], expected: Health) -> None:
    """Store a live object as testdata and record the health it must show in health_test.yaml."""
    kind = obj["kind"]
    path = input_path(case)
    (CUSTOMIZATIONS / kind / path).parent.mkdir(parents=True, exist_ok=True)
    (CUSTOMIZATIONS / kind / path).write_text(dump(obj))
    known = (CUSTOMIZATIONS / kind / "health_test.yaml").exists()
    tests = {t.input_path: t.expected for t in health_tests(kind)} if known else {}
    tests[path] = expected  # a new case goes last, a known one keeps its place
    write_health_tests(kind, tests)


def write_health_tests(kind: str, tests: dict[str, Health]) -> None:
    items = [
        {"healthStatus": {"status": h.status, "message": h.message}, "inputPath": path}
        for path, h in tests.items()
    ]
    (CUSTOMIZATIONS / kind / "health_test.yaml").write_text(dump({"tests": items}, sort_keys=False))
