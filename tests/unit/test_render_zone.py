"""render/zone.py: the private zone file and its ConfigMap."""

from __future__ import annotations

import re

from tests.unit import builders

from berth.render import names, zone


def test_records_point_names_at_cluster_ips_sorted_with_a_short_ttl() -> None:
    text = zone.zone_file("service.local", {"web": "10.96.0.12", "api": "10.96.0.7"})
    lines = text.splitlines()
    assert lines[0] == "$ORIGIN service.local."
    assert lines[1] == f"$TTL {zone.TTL_SECONDS}"
    assert re.fullmatch(
        r"@ IN SOA ns\.service\.local\. hostmaster\.service\.local\. \d+ 60 30 86400 5", lines[2]
    )
    assert lines[3:] == ["api IN A 10.96.0.7", "web IN A 10.96.0.12"]
    assert text.endswith("\n")


def test_ipv6_cluster_ips_are_aaaa_records() -> None:
    assert "web IN AAAA fd00::12" in zone.zone_file("service.local", {"web": "fd00::12"})


def serial(text: str) -> int:
    return int(text.splitlines()[2].split()[5])


def test_the_serial_changes_with_the_records_and_only_with_them() -> None:
    one = zone.zone_file("service.local", {"web": "10.96.0.12"})
    same = zone.zone_file("service.local", {"web": "10.96.0.12"})
    other = zone.zone_file("service.local", {"web": "10.96.0.13"})
    assert serial(one) == serial(same)
    assert serial(one) != serial(other)
    assert 0 < serial(zone.zone_file("service.local", {})) < 2**32


def test_a_configured_suffix_is_the_origin() -> None:
    text = zone.zone_file("berth.internal.", {"web": "10.0.0.1"})
    assert text.startswith("$ORIGIN berth.internal.\n")


def test_the_configmap_lives_in_the_operators_namespace_under_the_zone_key() -> None:
    settings = builders.settings(namespace="ops", private_domain_suffix="svc.example")
    manifest = zone.zone_configmap(settings, {"web": "10.96.0.12"})
    assert manifest["metadata"]["name"] == names.PRIVATE_ZONE_CONFIGMAP
    assert manifest["metadata"]["namespace"] == "ops"
    assert manifest["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "berth"
    assert list(manifest["data"]) == ["db.svc.example"]
    assert "web IN A 10.96.0.12" in manifest["data"]["db.svc.example"]


def test_only_real_addresses_count_as_cluster_ips() -> None:
    assert zone.is_cluster_ip("10.96.0.1")
    assert zone.is_cluster_ip("fd00::1")
    assert not zone.is_cluster_ip("None")  # a headless Service
    assert not zone.is_cluster_ip("")
    assert not zone.is_cluster_ip(None)
