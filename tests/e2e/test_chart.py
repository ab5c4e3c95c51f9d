"""End to end: the Helm chart lints, renders what its values say, installs, and its RBAC is enough.

The RBAC proof runs the real operator out of cluster with the token of the chart's
ServiceAccount, on a control plane of its own (the session's operator, cluster admin, would
otherwise reconcile the same services and hide a missing permission).
"""

from __future__ import annotations

import copy
import json
import os
import pathlib
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import kubernetes
import pytest
import yaml
from tests.e2e.support import (
    Berth,
    apply,
    service_manifest,
    version_manifest,
    wait_for,
    web_content,
)

from berth.devcluster import Cluster, external_kubeconfig, stop_at_exit
from berth.devcluster.operator_process import OperatorProcess
from berth.kube import resources
from berth.settings import Settings

pytestmark = pytest.mark.e2e
REPO = pathlib.Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "berth"
Manifest = dict[str, Any]

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
    "ingressAnnotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "8m"},
    "progressDeadlineSeconds": 300,
    "privateDomainSuffix": "svc.internal",
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
    "workers": 4,
    "apiThreads": 8,
    "resources": {"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
    "metrics": {
        "port": 9090,
        "service": {"annotations": {"prometheus.io/scrape": "true"}},
        "serviceMonitor": {
            "enabled": True,
            "interval": "15s",
            "scrapeTimeout": "5s",
            "labels": {"release": "prometheus"},
        },
    },
    "healthPort": 9091,
    "podDisruptionBudget": {"enabled": True, "maxUnavailable": 0, "minAvailable": 1},
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
}


# -- helm --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def helm() -> pathlib.Path:
    """The pinned helm CLI, built once into the cache (make binaries does it beforehand)."""
    out = subprocess.run(
        [str(REPO / "devcluster" / "helm" / "build.sh")],
        check=True,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    return pathlib.Path(out.stdout.strip()) / "helm"


def run_helm(
    helm: pathlib.Path, *args: str, check: bool = True, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(helm), *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def all_values_file(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("values") / "all.yaml"
    path.write_text(yaml.safe_dump(ALL_VALUES))
    return path


def render(helm: pathlib.Path, *args: str, namespace: str = "berth-system") -> list[Manifest]:
    text = run_helm(helm, "template", "berth", str(CHART), "-n", namespace, *args).stdout
    return [doc for doc in yaml.safe_load_all(text) if doc]


def find(docs: list[Manifest], kind: str, component: str | None = None) -> list[Manifest]:
    return [
        d
        for d in docs
        if d["kind"] == kind
        and (
            component is None
            or d["metadata"]["labels"].get("app.kubernetes.io/component") == component
        )
    ]


def one(docs: list[Manifest], kind: str, component: str | None = None) -> Manifest:
    found = find(docs, kind, component)
    assert len(found) == 1, f"{len(found)} {kind} ({component}) rendered"
    return found[0]


def operator_container(docs: list[Manifest]) -> Manifest:
    pod = one(docs, "Deployment", "operator")["spec"]["template"]["spec"]
    container: Manifest = pod["containers"][0]
    return container


def env_of(docs: list[Manifest]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in operator_container(docs)["env"]}


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
        ["ServiceAccount", "Role", "RoleBinding"]
        + ["ClusterRole", "ClusterRoleBinding"] * 2
        + ["Service", "Deployment"]
        + ["ContainerServicePower"] * 6
    )
    deployment = one(docs, "Deployment", "operator")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    container = operator_container(docs)
    assert container["image"] == "ghcr.io/berth-dev/berth:0.1.0"
    assert container["command"] == ["python", "-m", "berth"]
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
    assert container["readinessProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}
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
    assert settings.private_domain_suffix == "svc.internal"
    assert settings.resources_mode.value == "container"
    assert (settings.workers, settings.api_threads) == (4, 8)
    assert (settings.metrics_port, settings.health_port) == (9090, 9091)


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
    budget = one(docs, "PodDisruptionBudget")
    assert budget["spec"]["minAvailable"] == 1 and "maxUnavailable" not in budget["spec"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()


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


def test_optional_objects_render_only_when_enabled(helm: pathlib.Path) -> None:
    docs = render(helm)
    assert not find(docs, "ServiceMonitor")
    assert not find(docs, "PodDisruptionBudget")
    assert not find(docs, "ConfigMap")

    enabled = render(
        helm,
        "--set",
        "metrics.serviceMonitor.enabled=true",
        "--set",
        "podDisruptionBudget.enabled=true",
    )
    assert len(find(enabled, "ServiceMonitor")) == 1
    budget = one(enabled, "PodDisruptionBudget")["spec"]
    assert set(budget) == {"maxUnavailable", "selector"} and budget["maxUnavailable"] == 1
    assert not find(enabled, "ConfigMap"), "coredns.mode=none renders no DNS server"


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [
        ("replicaCount=2", "/replicaCount"),
        ("coredns.mode=forward", "/coredns/mode"),
        ("progressDeadlineSeconds=1", "/progressDeadlineSeconds"),
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


# -- install into a control plane of its own ---------------------------------------------------

RELEASE = "berth"
DEADLINE_SECONDS = 15


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[Cluster]:
    if external_kubeconfig() is not None:
        pytest.skip(
            "needs a control plane of its own: another operator may reconcile BERTH_KUBECONFIG's"
        )
    started = Cluster()
    stop_at_exit(started)
    with started:
        yield started


@pytest.fixture(scope="module")
def release(own_cluster: Cluster, helm: pathlib.Path) -> str:
    """The chart installed as a user would, into a namespace that enforces PSS `restricted`."""
    namespace = "berth-system"
    own_cluster.kubectl("create", "namespace", namespace)
    own_cluster.kubectl(
        "label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted"
    )
    run_helm(
        helm,
        "install",
        RELEASE,
        str(CHART),
        "-n",
        namespace,
        f"--kubeconfig={own_cluster.kubeconfig}",
        "--set",
        f"progressDeadlineSeconds={DEADLINE_SECONDS}",
        "--wait",
        "--timeout=120s",
    )
    return namespace


def test_chart_installs_and_its_operator_pod_runs_under_pod_security_restricted(
    own_cluster: Cluster, release: str, helm: pathlib.Path
) -> None:
    deployment = json.loads(
        own_cluster.kubectl("get", "-n", release, "deployment", RELEASE, "-o", "json").stdout
    )
    assert deployment["status"]["availableReplicas"] == 1
    # The namespace really refuses what `restricted` forbids, so the pod above passed the check.
    loose = own_cluster.kubectl(
        "run", "loose", "-n", release, "--image=example.invalid/loose:1", check=False
    )
    assert 'violates PodSecurity "restricted' in loose.stderr, loose.stderr
    crds = own_cluster.kubectl("get", "crd", "-o", "name").stdout.split()
    assert {
        f"customresourcedefinition.apiextensions.k8s.io/{n}.berth.dev"
        for n in ("containerservices", "containerservicedeployments", "containerservicepowers")
    } <= set(crds)
    powers = own_cluster.kubectl("get", "cspower", "-o", "name").stdout.split()
    assert len(powers) == 6

    run_helm(
        helm,
        "upgrade",
        RELEASE,
        str(CHART),
        "-n",
        release,
        f"--kubeconfig={own_cluster.kubeconfig}",
        "--reuse-values",
        "--set",
        "region=eu-north-1",
        "--wait",
        "--timeout=120s",
    )
    upgraded = json.loads(
        own_cluster.kubectl("get", "-n", release, "deployment", RELEASE, "-o", "json").stdout
    )
    env = {
        e["name"]: e.get("value")
        for e in upgraded["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["BERTH_REGION"] == "eu-north-1"
    assert env["BERTH_PROGRESS_DEADLINE_SECONDS"] == str(DEADLINE_SECONDS)


def service_account_kubeconfig(
    cluster: Cluster, release: str, namespace: str, path: pathlib.Path
) -> pathlib.Path:
    """A kubeconfig that authenticates as a release's ServiceAccount, with a TokenRequest token."""
    token = cluster.kubectl(
        "create", "token", release, "-n", namespace, "--duration=1h"
    ).stdout.strip()
    config = copy.deepcopy(yaml.safe_load(cluster.kubeconfig.read_text()))
    config["users"] = [{"name": "berth-operator", "user": {"token": token}}]
    for context in config["contexts"]:
        context["context"]["user"] = "berth-operator"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


def operator_as(
    cluster: Cluster, release: str, namespace: str, work: pathlib.Path
) -> OperatorProcess:
    """The operator, out of cluster, with the env the chart gives its pod, as the chart's SA."""
    deployment = json.loads(
        cluster.kubectl("get", "-n", namespace, "deployment", release, "-o", "json").stdout
    )
    chart_env = {
        e["name"]: e["value"]
        for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        if e["name"] not in ("BERTH_METRICS_PORT", "BERTH_HEALTH_PORT")
    }
    kubeconfig = service_account_kubeconfig(cluster, release, namespace, work / "sa.kubeconfig")
    return OperatorProcess(kubeconfig, work / "operator.log", env=chart_env)


@pytest.fixture
def as_service_account(
    own_cluster: Cluster, release: str, tmp_path: pathlib.Path
) -> Iterator[OperatorProcess]:
    process = operator_as(own_cluster, RELEASE, release, tmp_path)
    yield process
    process.stop()
    print(f"operator log: {process.log}")


@pytest.fixture
def own_namespace(own_cluster: Cluster) -> Iterator[str]:
    name = f"chart-{uuid.uuid4().hex[:8]}"
    own_cluster.kubectl("create", "namespace", name)
    yield name
    own_cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def berth_on(cluster: Cluster, namespace: str) -> Berth:
    return Berth(
        kubernetes.config.new_client_from_config(config_file=str(cluster.kubeconfig)), namespace
    )


def test_chart_service_account_may_do_everything_a_service_lifecycle_needs(
    own_cluster: Cluster, own_namespace: str, as_service_account: OperatorProcess
) -> None:
    berth = berth_on(own_cluster, own_namespace)
    operator = as_service_account.start()
    name = "life"

    apply(own_cluster, own_namespace, service_manifest(name, deployment=web_content()))
    berth.wait_state(name, "RUNNING")

    apply(
        own_cluster,
        own_namespace,
        version_manifest("life-blue", name, web_content(GREETING="blue")),
    )
    wait_for(
        lambda: berth.version_states(name) == {1: "INACTIVE", 2: "ACTIVE"}, what="version 2 ACTIVE"
    )
    berth.wait_state(name, "RUNNING")

    own_cluster.kubectl("scale", "-n", own_namespace, f"csvc/{name}", "--replicas=3")
    wait_for(
        lambda: (s := berth.status(name))["state"] == "RUNNING" and s["readyReplicas"] == 3,
        what="RUNNING with 3 ready",
    )

    own_cluster.kubectl("delete", "-n", own_namespace, f"csvc/{name}", "--timeout=60s")
    wait_for(lambda: berth.deployment(name) is None, what="the Deployment to go with its service")

    log = operator.log.read_text()
    assert operator.process is not None and operator.process.poll() is None
    assert "forbidden" not in log.lower(), "the chart's ClusterRole is missing a permission"
    assert "Not enough permissions" not in log


def without(rules: list[Manifest], group: str, plural: str, verb: str) -> list[Manifest]:
    cut = copy.deepcopy(rules)
    for rule in cut:
        if group in rule["apiGroups"] and plural in rule["resources"]:
            rule["verbs"] = [v for v in rule["verbs"] if v != verb]
    return cut


def test_without_patch_on_deployments_the_service_never_runs_and_the_operator_keeps_retrying(
    own_cluster: Cluster, own_namespace: str, as_service_account: OperatorProcess
) -> None:
    berth = berth_on(own_cluster, own_namespace)
    role = json.loads(own_cluster.kubectl("get", "clusterrole", RELEASE, "-o", "json").stdout)
    complete = role["rules"]
    role["rules"] = without(complete, "apps", "deployments", "patch")
    own_cluster.kubectl("replace", "-f", "-", input=json.dumps(role))
    try:
        operator = as_service_account.start()
        name = "denied"
        apply(own_cluster, own_namespace, service_manifest(name, deployment=web_content()))

        wait_for(
            lambda: "forbidden" in operator.log.read_text().lower(),
            timeout=30,
            what="the operator to log the 403",
        )
        time.sleep(3)  # a few more retries: none of them may get anywhere
        assert berth.status(name).get("state") != "RUNNING"
        assert berth.deployment(name) is None
        assert operator.process is not None and operator.process.poll() is None, "operator died"
        log = operator.log.read_text()
        assert "deployments" in log and "cannot patch" in log
    finally:
        current = json.loads(
            own_cluster.kubectl("get", "clusterrole", RELEASE, "-o", "json").stdout
        )
        current["rules"] = complete
        own_cluster.kubectl("replace", "-f", "-", input=json.dumps(current))

    # With the permission back, the retries succeed: the 403 was an error it retried, not a crash.
    berth.wait_state(name, "RUNNING", timeout=90)


def can_i(cluster: Cluster, service_account: str, *args: str) -> bool:
    answer = cluster.kubectl("auth", "can-i", *args, f"--as={service_account}", check=False)
    return answer.stdout.strip() == "yes"


# The chart's side is done and checked above (can-i); the operator's is not yet: networking.prime
# lists Ingresses and Certificates across the cluster, which a namespaced install may not do, so
# the start-up listing fails with 403 and kopf retries it. Remove the mark when that is fixed.
@pytest.mark.xfail(
    strict=True,
    raises=TimeoutError,
    reason="networking.prime lists ingresses/certificates cluster-wide (403 when namespaced)",
)
def test_watching_some_namespaces_binds_the_operator_there_only_and_it_still_works(
    own_cluster: Cluster, helm: pathlib.Path, own_namespace: str, tmp_path: pathlib.Path
) -> None:
    home, other, release = (
        f"ops-{uuid.uuid4().hex[:6]}",
        f"other-{uuid.uuid4().hex[:6]}",
        "berth-ns",
    )
    for name in (home, other):
        own_cluster.kubectl("create", "namespace", name)
    run_helm(
        helm,
        "install",
        release,
        str(CHART),
        "-n",
        home,
        f"--kubeconfig={own_cluster.kubeconfig}",
        "--set",
        f"watchNamespaces={{{own_namespace}}}",
        "--set",
        "defaultPowers=false",  # the first release owns them
        "--wait",
        "--timeout=120s",
    )
    account = f"system:serviceaccount:{home}:{release}"
    assert can_i(own_cluster, account, "patch", "deployments", "-n", own_namespace)
    assert not can_i(own_cluster, account, "list", "pods", "--all-namespaces")
    assert not can_i(own_cluster, account, "patch", "deployments", "-n", other)
    assert can_i(own_cluster, account, "list", "containerservicepowers.berth.dev")

    operator = operator_as(own_cluster, release, home, tmp_path)
    try:
        operator.start(timeout=15)
        watched, unwatched = berth_on(own_cluster, own_namespace), berth_on(own_cluster, other)
        apply(own_cluster, own_namespace, service_manifest("here", deployment=web_content()))
        apply(own_cluster, other, service_manifest("there", deployment=web_content()))

        watched.wait_state("here", "RUNNING")
        assert unwatched.status("there") == {}, "a namespace not watched was reconciled"
        assert "forbidden" not in operator.log.read_text().lower()
    finally:
        operator.stop()
        print(f"operator log: {operator.log}")
