"""The Helm chart lints and renders what its values say (helm template; no cluster needed).

Installing it and proving its RBAC is test_chart_rbac.py.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import urllib.request
from typing import Any

import dns.exception
import dns.resolver
import pytest
import yaml
from tests.e2e.chart_support import (
    CHART,
    Manifest,
    env_of,
    find,
    helm,
    one,
    operator_container,
    render,
    run_helm,
)
from tests.e2e.support import wait_for

from berth.kube import resources
from berth.lease_timing import Timing
from berth.render import names, zone
from berth.settings import Settings
from devcluster import operator_image_spec
from devcluster.addons import free_port

__all__ = ["helm"]  # the fixture, shared with test_chart_rbac.py

pytestmark = pytest.mark.e2e

# Every value of values.yaml, none at its default (test_all_values_set_every_value checks that).
ALL_VALUES: dict[str, Any] = {
    "replicaCount": 0,
    "image": {"repository": "registry.example/berth", "tag": "9.9.9", "pullPolicy": "Always"},
    "imagePullSecrets": [{"name": "pull"}],
    "nameOverride": "dock",
    "fullnameOverride": "harbour",
    "serviceAccount": {"create": False, "name": "berth-sa", "annotations": {"a.example/b": "c"}},
    "watchNamespaces": ["team-a", "team-b"],
    "baseDomain": "apps.example.com",
    "region": "eu-west-1",
    "ingressClassName": "nginx",
    "clusterIssuer": "letsencrypt",
    "registry": {
        "server": "registry.example:5000",
        "pullSecret": "berth-pull",
        "tokenSecret": "berth-registry-key",
        "bundled": {
            "enabled": True,
            "image": {
                "repository": "registry.example/distribution",
                "tag": "3.1.2",
                "pullPolicy": "Always",
            },
            "tokenRealm": "https://registry.example:5001/token",
            "tlsSecret": "registry-tls",
            "storage": {"size": "50Gi", "storageClassName": "fast"},
            "service": {"type": "NodePort", "port": 5443, "tokenPort": 5444},
            "garbageCollectSchedule": "0 4 * * 0",
            "resources": {"requests": {"cpu": "50m"}},
        },
    },
    "ingressAnnotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "8m"},
    "progressDeadlineSeconds": 300,
    "drainSeconds": 15,
    "privateDomainSuffix": "svc.internal",
    "domainVerification": {
        "enabled": False,
        "nameservers": ["10.0.0.10", "10.0.0.11:5353"],
        "intervalSeconds": 600,
        "pendingSeconds": 10,
    },
    "coredns": {
        "mode": "stub",
        "stub": {
            "image": {"repository": "dns.example/coredns", "tag": "1.2.3", "pullPolicy": "Always"},
            "clusterIP": "10.96.0.53",
            "resources": {"requests": {"cpu": "20m"}, "limits": {"memory": "128Mi"}},
        },
    },
    "defaultPowers": False,
    "resourcesMode": "container",
    "overcommitRatio": 0.25,
    "healthChecks": {"by": "kubelet", "concurrency": 7},
    "workers": 4,
    "apiThreads": 8,
    "resources": {"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
    "leaderElection": {
        "enabled": False,
        "leaseName": "harbour-leader",
        "leaseDurationSeconds": 30,
        "renewDeadlineSeconds": 20,
        "retryPeriodSeconds": 4,
    },
    "lightsailApi": {
        "enabled": False,
        "replicaCount": 2,
        "port": 9443,
        "tenantServiceAccounts": ["aws-tenant"],
        "prometheusUrl": "http://prometheus.monitoring:9090",
        "resources": {"requests": {"cpu": "50m"}},
        "ingress": {
            "enabled": True,
            "host": "lightsail.apps.example.com",
            "className": "traefik",
            "annotations": {"a.example/ingress": "yes"},
        },
    },
    "metrics": {
        "port": 9090,
        "service": {"annotations": {"prometheus.io/scrape": "true"}},
        "serviceMonitor": {
            "enabled": True,
            "interval": "15s",
            "scrapeTimeout": "5s",
            "labels": {"release": "prometheus"},
        },
        "prometheusRule": {
            "enabled": True,
            "labels": {"release": "prometheus"},
            "queueBacklog": 50,
        },
        "grafanaDashboard": {"enabled": True, "labels": {"grafana_dashboard": "berth"}},
    },
    "healthPort": 9091,
    "certificateDeadlineSeconds": 120,
    "logLevel": "DEBUG",
    "logFormat": "json",
    "podDisruptionBudget": {"enabled": False, "maxUnavailable": 0, "minAvailable": 1},
    "podSecurityContext": {
        "runAsNonRoot": True,
        "runAsUser": 20000,
        "runAsGroup": 20000,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    },
    "podAnnotations": {"a.example/pod": "yes"},
    "podLabels": {"team": "platform"},
    "priorityClassName": "system-cluster-critical",
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
    "affinity": {"nodeAffinity": {}},
    "topologySpreadConstraints": [
        {
            "maxSkew": 2,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"team": "platform"}},
        }
    ],
}


# -- helm --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def all_values_file(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("values") / "all.yaml"
    path.write_text(yaml.safe_dump(ALL_VALUES))
    return path


def value_paths(tree: Any, schema: Manifest, prefix: str = "") -> set[str]:
    """Dotted paths of every value; a map the schema leaves free-form (resources) is one value."""
    if isinstance(tree, dict) and "properties" in schema:
        paths: set[str] = set()
        for key, value in tree.items():
            assert key in schema["properties"], f"{prefix}{key} is not in values.schema.json"
            paths |= value_paths(value, schema["properties"][key], f"{prefix}{key}.")
        return paths
    return {prefix.rstrip(".")}


def get(tree: Any, path: str) -> Any:
    for key in path.split("."):
        tree = tree[key]
    return tree


# -- lint and render ---------------------------------------------------------------------------


def test_chart_lints_clean_with_defaults_and_with_every_value_set(
    helm: pathlib.Path, all_values_file: pathlib.Path
) -> None:
    run_helm(helm, "lint", "--strict", str(CHART))
    run_helm(helm, "lint", "--strict", str(CHART), "-f", str(all_values_file))


def test_all_values_set_every_value_and_the_schema_describes_each() -> None:
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = json.loads((CHART / "values.schema.json").read_text())

    paths = value_paths(defaults, schema)

    assert value_paths(ALL_VALUES, schema) == paths
    for path in paths:
        assert get(ALL_VALUES, path) != get(defaults, path), f"ALL_VALUES keeps {path}'s default"


def test_default_render_is_the_operator_its_rbac_and_the_powers_and_nothing_optional(
    helm: pathlib.Path,
) -> None:
    docs = render(helm)

    kinds = sorted(d["kind"] for d in docs)
    assert kinds == sorted(
        ["ServiceAccount"] * 2  # the operator's, and the Lightsail endpoint's
        + ["Role", "RoleBinding"] * 3  # the zone's, leader election's, the keys'
        + ["ClusterRole", "ClusterRoleBinding"] * 3
        + ["Service", "Deployment"] * 2
        + ["PodDisruptionBudget"]
        + ["ContainerServicePower"] * 6
    )
    deployment = one(docs, "Deployment", "operator")
    # A leader and a standby; an upgrade brings a new pod up before an old one goes.
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    assert one(docs, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    pod = deployment["spec"]["template"]["spec"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    spread = pod["topologySpreadConstraints"]
    assert [c["topologyKey"] for c in spread] == [
        "kubernetes.io/hostname",
        "topology.kubernetes.io/zone",
    ]
    assert all(c["labelSelector"]["matchLabels"] == selector for c in spread)
    container = operator_container(docs)
    assert container["image"] == "ghcr.io/berth-dev/berth:0.1.0"
    assert "command" not in container, "the image's entrypoint runs the operator"
    # Services' link variables (BERTH_LIGHTSAIL_PORT=tcp://…) would be read as settings.
    assert pod["enableServiceLinks"] is False
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    for doc in docs:
        labels = doc["metadata"].get("labels") or {}
        if doc["kind"] != "ContainerServicePower":
            assert labels["app.kubernetes.io/name"] == "berth"
            assert labels["app.kubernetes.io/instance"] == "berth"
            assert labels["app.kubernetes.io/managed-by"] == "Helm"
            assert labels["app.kubernetes.io/version"] == "0.1.0"
            assert labels["helm.sh/chart"] == "berth-0.1.0"
    names = {p["metadata"]["name"] for p in find(docs, "ContainerServicePower")}
    assert names == {"nano", "micro", "small", "medium", "large", "xlarge"}


@pytest.mark.parametrize("values", ["defaults", "all"])
def test_operator_pod_meets_pod_security_restricted(
    values: str, helm: pathlib.Path, all_values_file: pathlib.Path
) -> None:
    docs = render(helm, *(["-f", str(all_values_file)] if values == "all" else []))

    for deployment in find(docs, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert not {"hostNetwork", "hostPID", "hostIPC"} & set(pod)
        assert all("hostPath" not in v for v in pod.get("volumes") or [])
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert "add" not in context["capabilities"]
            assert context["readOnlyRootFilesystem"] is True
            assert context.get("privileged") is not True
            assert "resources" in container


@pytest.mark.parametrize("values", ["defaults", "all"])
def test_probes_and_ports_are_the_ones_the_operator_serves(
    values: str, helm: pathlib.Path, all_values_file: pathlib.Path
) -> None:
    docs = render(helm, *(["-f", str(all_values_file)] if values == "all" else []))
    container = operator_container(docs)
    env = env_of(docs)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}

    assert ports == {
        "metrics": int(env["BERTH_METRICS_PORT"]),
        "health": int(env["BERTH_HEALTH_PORT"]),
    }
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    service = next(s for s in find(docs, "Service") if s["metadata"]["name"].endswith("-metrics"))
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"
    assert service["spec"]["selector"].items() <= (
        one(docs, "Deployment", "operator")["spec"]["template"]["metadata"]["labels"].items()
    )


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in [n for n in os.environ if n.startswith("BERTH_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_default_env_gives_the_operator_its_own_defaults(
    helm: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = env_of(render(helm, namespace="berth-system"))

    assert settings_from(env, monkeypatch) == settings_from({}, monkeypatch)


def test_every_value_reaches_the_operator_as_the_setting_it_names(
    helm: pathlib.Path, all_values_file: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = env_of(render(helm, "-f", str(all_values_file), namespace="berth-ops"))
    fields = {f"BERTH_{name.upper()}" for name in Settings.model_fields}

    assert set(env) <= fields, "the chart sets a BERTH_* variable no setting reads"
    settings = settings_from(env, monkeypatch)
    assert settings.namespace == "berth-ops"
    assert settings.watch_namespaces == ["team-a", "team-b"]
    assert settings.base_domain == "apps.example.com"
    assert settings.region == "eu-west-1"
    assert settings.ingress_class_name == "nginx"
    assert settings.cluster_issuer == "letsencrypt"
    assert settings.ingress_annotations == {"nginx.ingress.kubernetes.io/proxy-body-size": "8m"}
    assert settings.progress_deadline_seconds == 300
    assert settings.drain_seconds == 15
    assert settings.private_domain_suffix == "svc.internal"
    assert settings.resources_mode.value == "container"
    assert settings.overcommit_ratio == 0.25
    assert (settings.health_checks.value, settings.health_check_concurrency) == ("kubelet", 7)
    assert (settings.workers, settings.api_threads) == (4, 8)
    assert (settings.metrics_port, settings.health_port) == (9090, 9091)
    assert (settings.log_level, settings.log_format.value) == ("DEBUG", "json")
    assert settings.certificate_deadline_seconds == 120
    assert settings.domain_verification is False
    assert settings.domain_verification_nameservers == ["10.0.0.10", "10.0.0.11:5353"]
    assert settings.domain_verification_interval_seconds == 600
    assert settings.domain_verification_pending_seconds == 10
    assert settings.leader_election is False
    assert settings.leader_election_lease_name == "harbour-leader"
    assert settings.leader_timing() == Timing(30, 20, 4)
    identity = next(e for e in operator_container(render(helm))["env"] if "valueFrom" in e)
    assert identity == {
        "name": "BERTH_LEADER_ELECTION_IDENTITY",
        "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
    }


def test_every_value_set_renders_what_it_says(
    helm: pathlib.Path, all_values_file: pathlib.Path
) -> None:
    docs = render(helm, "-f", str(all_values_file), namespace="berth-ops")
    deployment = one(docs, "Deployment", "operator")
    pod = deployment["spec"]["template"]

    assert deployment["metadata"]["name"] == "harbour"
    assert deployment["spec"]["replicas"] == 0
    assert deployment["metadata"]["labels"]["app.kubernetes.io/name"] == "dock"
    container = operator_container(docs)
    assert container["image"] == "registry.example/berth:9.9.9"
    assert container["imagePullPolicy"] == "Always"
    assert container["resources"] == ALL_VALUES["resources"]
    assert pod["spec"]["securityContext"]["runAsUser"] == 20000
    assert pod["spec"]["imagePullSecrets"] == [{"name": "pull"}]
    assert pod["spec"]["serviceAccountName"] == "berth-sa"
    assert pod["spec"]["priorityClassName"] == "system-cluster-critical"
    assert pod["spec"]["nodeSelector"] == ALL_VALUES["nodeSelector"]
    assert pod["spec"]["tolerations"] == ALL_VALUES["tolerations"]
    assert pod["spec"]["affinity"] == ALL_VALUES["affinity"]
    assert pod["metadata"]["annotations"] == ALL_VALUES["podAnnotations"]
    assert pod["metadata"]["labels"]["team"] == "platform"
    assert not find(docs, "ServiceAccount"), "serviceAccount.create=false still made one"
    assert not find(docs, "ContainerServicePower"), "defaultPowers=false still made powers"
    for binding in find(docs, "ClusterRoleBinding") + find(docs, "RoleBinding"):
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "berth-sa", "namespace": "berth-ops"}
        ]
    # Watching some namespaces: the namespaced rules are bound there only.
    bound = {(b["metadata"]["namespace"], b["roleRef"]["name"]) for b in find(docs, "RoleBinding")}
    assert bound == {("team-a", "harbour"), ("team-b", "harbour"), ("berth-ops", "harbour-zone")}
    assert [b["roleRef"]["name"] for b in find(docs, "ClusterRoleBinding")] == ["harbour-cluster"]
    cluster_role = next(
        r for r in find(docs, "ClusterRole") if r["metadata"]["name"].endswith("-cluster")
    )
    namespaces_rule = {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list", "watch"]}
    assert namespaces_rule in cluster_role["rules"]

    metrics = next(s for s in find(docs, "Service") if s["metadata"]["name"] == "harbour-metrics")
    assert metrics["metadata"]["annotations"] == {"prometheus.io/scrape": "true"}
    monitor = one(docs, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "15s", "scrapeTimeout": "5s"}
    ]
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= metrics["metadata"]["labels"].items()
    )
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["berth-ops"]}
    assert not find(docs, "PodDisruptionBudget")
    spread = pod["spec"]["topologySpreadConstraints"]
    assert spread == ALL_VALUES["topologySpreadConstraints"], "a selector given is kept"


def test_stub_dns_serves_the_operators_zone_configmap(
    helm: pathlib.Path, all_values_file: pathlib.Path
) -> None:
    docs = render(helm, "-f", str(all_values_file), namespace="berth-ops")

    corefile = one(docs, "ConfigMap", "dns")["data"]["Corefile"]
    assert corefile.startswith("svc.internal:1053 {")
    assert "file /zones/db.svc.internal svc.internal {" in corefile
    dns = one(docs, "Deployment", "dns")["spec"]["template"]["spec"]
    assert dns["containers"][0]["image"] == "dns.example/coredns:1.2.3"
    zone = next(v for v in dns["volumes"] if v["name"] == "zone")
    assert zone["configMap"] == {"name": "berth-private-zone", "optional": True}
    service = one(docs, "Service", "dns")
    assert service["spec"]["clusterIP"] == "10.96.0.53"
    assert {p["port"] for p in service["spec"]["ports"]} == {53}


def test_stub_corefile_serves_the_operators_zone_file_with_real_coredns(
    helm: pathlib.Path, addons_bin: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """The chart's Corefile, run by CoreDNS's own `file` plugin code on the operator's zone text.

    Loopback ports instead of 1053, no `health` (not in the test build), a directory for the
    ConfigMap volume; the rest, `file` and its `reload`, is the chart's text.
    """
    suffix = "svc.internal"
    docs = render(helm, "--set", "coredns.mode=stub", "--set", f"privateDomainSuffix={suffix}")
    corefile = one(docs, "ConfigMap", "dns")["data"]["Corefile"]
    volume = next(
        v
        for v in one(docs, "Deployment", "dns")["spec"]["template"]["spec"]["volumes"]
        if v["name"] == "zone"
    )
    assert volume["configMap"]["name"] == names.PRIVATE_ZONE_CONFIGMAP
    zone_file = f"/zones/{names.private_zone_key(suffix)}"
    assert f"file {zone_file} {suffix} {{" in corefile

    port, ready = free_port(), free_port()
    local = (
        corefile.replace(f"{suffix}:1053 {{", f"{suffix}:{port} {{\n    bind 127.0.0.1")
        .replace("    health :8080\n", "")
        .replace("ready :8181", f"ready 127.0.0.1:{ready}")
        .replace("/zones/", f"{tmp_path}/")
        .replace("reload 10s", "reload 1s")
    )
    (tmp_path / "Corefile").write_text(local)
    # Started before the operator's first write, as the pod is: the zone file is not there yet.
    server = subprocess.Popen(
        [str(addons_bin / "coredns"), "-conf", str(tmp_path / "Corefile")],
        stdout=(tmp_path / "coredns.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: _answers(f"http://127.0.0.1:{ready}/ready"), 20, "CoreDNS ready")
        written = zone.zone_file(suffix, {"web": "10.96.7.7"})
        (tmp_path / names.private_zone_key(suffix)).write_text(written)
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers, resolver.port, resolver.lifetime = ["127.0.0.1"], port, 2.0

        def lookup() -> list[str]:
            try:
                return [r.to_text() for r in resolver.resolve(f"web.{suffix}", "A")]
            except dns.exception.DNSException:
                return []

        assert wait_for(lookup, 20, f"web.{suffix} from the stub") == ["10.96.7.7"]
    finally:
        server.terminate()
        server.wait(10)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def test_optional_objects_render_only_when_enabled(helm: pathlib.Path) -> None:
    docs = render(helm, "--set", "podDisruptionBudget.enabled=false")
    assert not find(docs, "ServiceMonitor")
    assert not find(docs, "PodDisruptionBudget")
    assert not find(docs, "ConfigMap")

    enabled = render(helm, "--set", "metrics.serviceMonitor.enabled=true")
    assert len(find(enabled, "ServiceMonitor")) == 1
    assert not find(docs, "PrometheusRule") and not find(enabled, "PrometheusRule")
    budget = one(enabled, "PodDisruptionBudget")["spec"]
    assert set(budget) == {"maxUnavailable", "selector"} and budget["maxUnavailable"] == 1
    pod_labels = one(enabled, "Deployment", "operator")["spec"]["template"]["metadata"]["labels"]
    assert budget["selector"]["matchLabels"].items() <= pod_labels.items()
    floor = render(helm, "--set", "podDisruptionBudget.minAvailable=1")
    budget = one(floor, "PodDisruptionBudget")["spec"]
    assert budget["minAvailable"] == 1 and "maxUnavailable" not in budget, "minAvailable wins"
    assert not find(enabled, "ConfigMap"), "coredns.mode=none renders no DNS server"


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [
        ("replicaCount=-1", "/replicaCount"),
        ("leaderElection.leaseName=Not_A_Name", "/leaderElection/leaseName"),
        ("leaderElection.enabled=false", "replicaCount above 1 needs leaderElection.enabled"),
        ("leaderElection.renewDeadlineSeconds=15", "must be above renewDeadlineSeconds"),
        ("leaderElection.retryPeriodSeconds=9", "above 1.2 x retryPeriodSeconds"),
        ("coredns.mode=forward", "/coredns/mode"),
        ("progressDeadlineSeconds=1", "/progressDeadlineSeconds"),
        ("drainSeconds=26", "/drainSeconds"),
        ("region=Not_A_Label", "/region"),
        ("resourcesMode=half", "/resourcesMode"),
        ("regoin=eu", "regoin"),
    ],
)
def test_schema_rejects_values_the_operator_cannot_run_with(
    setting: str, complaint: str, helm: pathlib.Path
) -> None:
    result = run_helm(helm, "template", "berth", str(CHART), "--set", setting, check=False)

    assert result.returncode != 0
    assert complaint in result.stderr


def rules_for(docs: list[Manifest], group: str, plural: str) -> set[str]:
    verbs: set[str] = set()
    for role in find(docs, "ClusterRole") + find(docs, "Role"):
        for rule in role["rules"]:
            if group in rule["apiGroups"] and plural in rule["resources"]:
                verbs.update(rule["verbs"])
    return verbs


def test_rbac_names_every_kind_the_operator_talks_to(helm: pathlib.Path) -> None:
    docs = render(helm)

    for resource in resources.BY_KIND.values():
        group = resource.api_version.rpartition("/")[0]
        verbs = rules_for(docs, group, resource.plural)
        assert verbs, f"{resource.kind}: no rule in the chart's roles"
        if resource is not resources.EVENT:
            assert {"list", "watch"} <= verbs or "get" in verbs, resource.kind
    assert rules_for(docs, "", "events") == {"create"}
    for role in find(docs, "ClusterRole") + find(docs, "Role"):
        assert all("*" not in r["verbs"] + r["resources"] for r in role["rules"])


def test_domain_verification_may_read_only_its_key_secret_and_only_when_on(
    helm: pathlib.Path,
) -> None:
    def key_rules(docs: list[Manifest]) -> list[dict[str, Any]]:
        zone_roles = [r for r in find(docs, "Role") if r["metadata"]["name"].endswith("-zone")]
        return [r for role in zone_roles for r in role["rules"] if r["resources"] == ["secrets"]]

    assert key_rules(render(helm)) == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": ["berth-domain-verification"],
            "verbs": ["get"],
        },
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
    ]
    assert key_rules(render(helm, "--set", "domainVerification.enabled=false")) == []


def test_leader_election_may_take_and_renew_its_one_lease_in_the_release_namespace(
    helm: pathlib.Path,
) -> None:
    def election_roles(docs: list[Manifest]) -> list[Manifest]:
        return [r for r in find(docs, "Role") if r["metadata"]["name"].endswith("-leader-election")]

    docs = render(helm, namespace="berth-ops")
    [role] = election_roles(docs)

    assert role["metadata"]["namespace"] == "berth-ops"
    assert role["rules"] == [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": [env_of(docs)["BERTH_LEADER_ELECTION_LEASE_NAME"]],
            "verbs": ["get", "update"],
        },
    ]
    alone = render(helm, "--set", "leaderElection.enabled=false", "--set", "replicaCount=1")
    assert not election_roles(alone)


def test_the_lightsail_endpoint_runs_from_the_operator_image_with_only_what_it_needs(
    helm: pathlib.Path,
) -> None:
    docs = render(helm, "--set", "lightsailApi.ingress.enabled=true")
    deployment = one(docs, "Deployment", "lightsail-api")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == operator_container(docs)["image"]
    assert container["command"] == ["python", "-m", "berth.lightsail"]
    assert deployment["spec"]["template"]["spec"]["enableServiceLinks"] is False
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["BERTH_NAMESPACE"] == "berth-system" and env["BERTH_LIGHTSAIL_PORT"] == "8443"
    assert "BERTH_PROMETHEUS_URL" not in env
    history = render(helm, "--set", "lightsailApi.prometheusUrl=http://prom:9090")
    history_env = one(history, "Deployment", "lightsail-api")["spec"]["template"]["spec"]
    assert {"name": "BERTH_PROMETHEUS_URL", "value": "http://prom:9090"} in history_env[
        "containers"
    ][0]["env"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
    assert account == "berth-lightsail"
    cluster_rules = next(r for r in find(docs, "ClusterRole") if r["metadata"]["name"] == account)[
        "rules"
    ]
    assert cluster_rules[1] == {
        "apiGroups": [""],
        "resources": ["serviceaccounts"],
        "verbs": ["impersonate"],
        "resourceNames": ["berth-lightsail"],
    }
    keys_role = next(r for r in find(docs, "Role") if r["metadata"]["name"] == account)
    assert keys_role["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
    ingress = one(docs, "Ingress")
    assert ingress["spec"]["rules"][0]["host"] == "lightsail.berth.internal"
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "berth-ca"
    assert not find(
        render(helm, "--set", "lightsailApi.enabled=false"), "Deployment", "lightsail-api"
    )


def test_the_chart_runs_the_image_as_the_user_and_ports_the_image_describes(
    helm: pathlib.Path,
) -> None:
    """The image (make image) and the Dockerfile come from one description; the chart agrees."""
    docs = render(helm)
    pod = one(docs, "Deployment", "operator")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    uid, gid = pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]

    assert f"{uid}:{gid}" == operator_image_spec.USER
    assert "command" not in container, "the chart runs the image's entrypoint"
    ports = {p["containerPort"] for p in container["ports"]}
    assert ports == set(operator_image_spec.PORTS)
    dockerfile = (CHART.parents[1] / "Dockerfile").read_text()
    assert f"\nUSER {operator_image_spec.USER}\n" in dockerfile
