"""kube/client.py: a list reads page after page and slims each object as its page arrives."""

from __future__ import annotations

import asyncio
from typing import Any

from berth.kube import resources
from berth.kube.client import LIST_PAGE, Kube


class PagedKube(Kube):
    """A Kube whose API server answers from `pages`, recording each query."""

    def __init__(self, pages: list[dict[str, Any]]) -> None:
        super().__init__(None, None)
        self.answers = pages
        self.queries: list[dict[str, str]] = []

    async def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: list[tuple[str, str]] | None = None,
        content_type: str = "application/json",
        resource: str = "",
    ) -> Any:
        self.queries.append(dict(query or []))
        return self.answers.pop(0)


def item(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "managedFields": [{"manager": "x"}]}}


def test_every_page_is_read_and_each_object_is_kept_slimmed() -> None:
    kube = PagedKube(
        [
            {"items": [item("a"), item("b")], "metadata": {"continue": "next"}},
            {"items": [item("c")], "metadata": {"continue": ""}},
        ]
    )

    found = asyncio.run(
        kube.list(
            resources.DEPLOYMENT,
            namespace="ns",
            selector="app=x",
            keep=lambda body: {"name": body["metadata"]["name"], "kind": body["kind"]},
        )
    )

    assert found == [
        {"name": "a", "kind": "Deployment"},
        {"name": "b", "kind": "Deployment"},
        {"name": "c", "kind": "Deployment"},
    ]
    assert kube.queries == [
        {"labelSelector": "app=x", "limit": str(LIST_PAGE)},
        {"labelSelector": "app=x", "limit": str(LIST_PAGE), "continue": "next"},
    ]
