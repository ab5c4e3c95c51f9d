"""The dev cluster's own BERTH_* variables, which the operator's Settings do not read."""

from __future__ import annotations

import pathlib

import pytest

from berth.settings import Settings
from devcluster.dataplane import image_cache_dir
from devcluster.external import external_kubeconfig


def test_berth_kubeconfig_names_the_cluster_to_use_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BERTH_KUBECONFIG", "~/clusters/kind.yaml")
    assert external_kubeconfig() == pathlib.Path.home() / "clusters" / "kind.yaml"


@pytest.mark.parametrize("value", [None, "", "."])
def test_without_berth_kubeconfig_the_dev_cluster_starts_its_own(
    value: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if value is None:
        monkeypatch.delenv("BERTH_KUBECONFIG", raising=False)
    else:
        monkeypatch.setenv("BERTH_KUBECONFIG", value)
    assert external_kubeconfig() is None


@pytest.mark.parametrize("value", [None, ""])
def test_images_are_cached_in_the_home_cache_by_default(
    value: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if value is None:
        monkeypatch.delenv("BERTH_CACHE", raising=False)
    else:
        monkeypatch.setenv("BERTH_CACHE", value)
    assert image_cache_dir() == pathlib.Path.home() / ".cache" / "berth" / "images"


def test_berth_cache_moves_the_image_cache(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BERTH_CACHE", str(tmp_path))
    assert image_cache_dir() == tmp_path / "images"


def test_the_operator_reads_none_of_the_dev_cluster_variables() -> None:
    read = {f"BERTH_{name.upper()}" for name in Settings.model_fields}
    assert read.isdisjoint({"BERTH_KUBECONFIG", "BERTH_CACHE"})
    assert all(field.validation_alias is None for field in Settings.model_fields.values())
