"""On the real node: a custom domain is served only once its owner proved it in DNS, the
record found by the operator through the data plane's real CoreDNS (zone example.test)."""

from __future__ import annotations

import ssl
import uuid

import dns.resolver
import pytest
from tests.e2e.live.manifests import hello_service
from tests.e2e.live.traffic import Live, first_success, https_get
from tests.e2e.support import wait_for

from devcluster.txt_zone import TEST_ZONE

pytestmark = pytest.mark.e2e


def not_served(live: Live, host: str) -> bool:
    """No route and no certificate for `host`: the ingress's default certificate, or a 404."""
    try:
        answer = https_get(live.endpoints, host)
    except ssl.SSLError:
        return True
    return answer.status == 404


def txt_values(live: Live, name: str) -> set[str]:
    """What the data plane's CoreDNS answers for `name`, as any resolver would see it."""
    address, _, port = live.endpoints.dns.rpartition(":")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port, resolver.lifetime = [address], int(port), 3.0
    try:
        answer = resolver.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return set()
    return {b"".join(r.strings).decode() for r in answer}


def test_a_custom_domain_is_served_over_https_only_once_its_owner_published_the_record(
    live: Live, live_namespace: str
) -> None:
    shop = f"shop-{uuid.uuid4().hex[:6]}.{TEST_ZONE}"
    live.apply(live_namespace, hello_service("shop", publicDomainNames={"shop-cert": [shop]}))
    live.wait_running(live_namespace, "shop")
    first_success(live.endpoints, live.default_host(live_namespace, "shop"))
    shown = wait_for(
        lambda: live.berth(live_namespace).status("shop").get("domainValidationRecords"),
        30,
        "the record to create",
    )
    record = shown[0]["resourceRecord"]
    assert txt_values(live, record["name"]) == set()
    assert not_served(live, shop)
    status = live.berth(live_namespace).status("shop")
    assert status.get("publicDomainNames") is None

    live.prove_domains(live_namespace, "shop")
    wait_for(
        lambda: txt_values(live, record["name"]) == {record["value"]},
        10,
        "CoreDNS to load the record",  # its file plugin looks at the zone every second
    )
    answer = first_success(live.endpoints, shop)
    assert shop in answer.names_in_certificate
    assert "on shop-" in answer.body
    proved = live.berth(live_namespace).status("shop")["domainValidationRecords"][0]
    assert proved["validationStatus"] == "SUCCESS"
