"""Which deleted images' manifests leave the registry, and which records get or lose the
finalizer (berth.render.image_manifests)."""

from berth.api.objects import ImageObject, parse_image
from berth.render import names
from berth.render.image_manifests import Manifest, cleanup

A = "sha256:" + "aa" * 32
B = "sha256:" + "bb" * 32
GUARDED = [names.IMAGE_FINALIZER]
GONE = "2026-11-30T01:00:00Z"


def image(
    name: str, digest: str = A, finalizers: list[str] | None = None, deleting: bool = False
) -> ImageObject:
    service, label, number = name.split(".")
    meta: dict[str, object] = {"name": name, "namespace": "shop"}
    meta["finalizers"] = GUARDED if finalizers is None else finalizers
    if deleting:
        meta["deletionTimestamp"] = GONE
    spec = {"serviceName": service, "label": label, "number": int(number), "digest": digest}
    return parse_image({"metadata": meta, "spec": spec})


def test_records_without_the_finalizer_get_it_unless_already_deleted() -> None:
    plan = cleanup(
        [
            image("web.site.1", finalizers=[]),
            image("web.site.2"),
            image("web.site.3", finalizers=["other"], deleting=True),
        ]
    )
    assert plan.guard == ("web.site.1",)
    # Deleted without our finalizer: not ours to wait for.
    assert plan.manifests == ()


def test_a_deleted_record_deletes_its_manifest_in_its_label_repository() -> None:
    plan = cleanup([image("web.site.1", deleting=True), image("web.site.2", digest=B)])
    assert plan.guard == ()
    assert plan.manifests == (Manifest("web", "site", A, True, ("web.site.1",)),)
    assert plan.manifests[0].repository("shop") == "shop/web/site"


def test_a_manifest_another_live_record_of_the_label_names_stays() -> None:
    plan = cleanup([image("web.site.1", deleting=True), image("web.site.2")])
    assert plan.manifests == (Manifest("web", "site", A, False, ("web.site.1",)),)


def test_the_same_digest_under_another_label_is_another_repository() -> None:
    plan = cleanup([image("web.site.1", deleting=True), image("web.api.1")])
    assert plan.manifests == (Manifest("web", "site", A, True, ("web.site.1",)),)


def test_records_deleted_together_delete_their_shared_manifest_once() -> None:
    plan = cleanup(
        [
            image("web.site.2", deleting=True),
            image("web.site.1", deleting=True),
            image("web.api.1", digest=B, deleting=True),
        ]
    )
    assert plan.manifests == (
        Manifest("web", "api", B, True, ("web.api.1",)),
        Manifest("web", "site", A, True, ("web.site.1", "web.site.2")),
    )
