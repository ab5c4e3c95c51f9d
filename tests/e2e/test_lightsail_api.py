"""End to end: the real AWS CLI and boto3 against Berth's Lightsail endpoint, on the embedded
cluster with the real operator. Every answer passes through a proxy that keeps it, and the
last test holds each one to botocore's model of its operation."""

from __future__ import annotations

import datetime as dt
import json
import pathlib
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.validate import ParamValidator
from tests.e2e.lightsail_support import (
    REGION,
    AwsCli,
    EndpointProcess,
    RecordingProxy,
    send,
    signed_request,
)
from tests.e2e.network_support import OPERATOR_NAMESPACE
from tests.e2e.support import Berth, wait_for

from berth.cli import image_records
from berth.cli.client import BerthClient
from berth.cli.kube_rest import KubeRest
from berth.cli.logevents import PAGE_SIZE
from berth.lightsail import model
from berth.render import names
from devcluster import KubeCluster
from devcluster.lightsail_process import create_access_key
from devcluster.operator_process import OperatorProcess

pytestmark = pytest.mark.e2e

CONTAINERS = {
    "web": {"image": "nginx:1.27", "environment": {"MODE": "blue"}, "ports": {"80": "HTTP"}}
}
PUBLIC_ENDPOINT = {"containerName": "web", "containerPort": 80, "healthCheck": {"path": "/"}}
NOT_FOUND = "An error occurred (NotFoundException)"
# The exit status of a service error: 255 in AWS CLI v1 (awscli on PyPI), 254 in v2.
SERVICE_ERROR = 255


@pytest.fixture(scope="module")
def proxy(
    cluster: KubeCluster, operator: OperatorProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RecordingProxy]:
    cluster.kubectl("create", "namespace", OPERATOR_NAMESPACE, check=False)
    log = tmp_path_factory.mktemp("lightsail") / "endpoint.log"
    endpoint = EndpointProcess(cluster.kubeconfig, OPERATOR_NAMESPACE, log, REGION).start()
    recording = RecordingProxy(endpoint.url)
    yield recording
    recording.stop()
    endpoint.stop()
    print(f"lightsail endpoint log: {log}")


def create_key(cluster: KubeCluster, namespace: str) -> dict[str, str]:
    """`berth create-access-key -n NAMESPACE`, as an administrator runs it."""
    return create_access_key(cluster.kubeconfig, namespace, OPERATOR_NAMESPACE)


@pytest.fixture
def key(cluster: KubeCluster, namespace: str) -> dict[str, str]:
    return create_key(cluster, namespace)


@pytest.fixture
def aws(key: dict[str, str], proxy: RecordingProxy, tmp_path: pathlib.Path) -> AwsCli:
    (tmp_path / "containers.json").write_text(json.dumps(CONTAINERS))
    (tmp_path / "endpoint.json").write_text(json.dumps(PUBLIC_ENDPOINT))
    return AwsCli(tmp_path, proxy.url, key)


def boto(proxy: RecordingProxy, key: dict[str, str], secret: str | None = None) -> Any:
    return boto3.session.Session().client(
        "lightsail",
        region_name=REGION,
        endpoint_url=proxy.url,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=secret or key["SecretAccessKey"],
    )


def state(aws: AwsCli, name: str) -> str:
    query = ("--query", "containerServices[0].state", "--output", "text")
    return aws("get-container-services", "--service-name", name, *query).stdout.strip()


def test_aws_cli_creates_deploys_waits_for_running_and_redeploys_the_active_version(
    aws: AwsCli, namespace: str
) -> None:
    created = aws.json(
        "create-container-service",
        "--service-name",
        "web",
        "--power",
        "nano",
        "--scale",
        "1",
        "--tags",
        "key=team,value=blue",
    )["containerService"]
    assert (created["containerServiceName"], created["power"], created["powerId"]) == (
        "web",
        "nano",
        "nano-1",
    )
    assert created["tags"] == [{"key": "team", "value": "blue"}]
    assert created["location"] == {"availabilityZone": "all", "regionName": REGION}
    assert created["arn"].startswith(f"arn:berth:lightsail:{REGION}:{namespace}:ContainerService/")
    assert created["privateRegistryAccess"] == {
        "ecrImagePullerRole": {"isActive": False, "principalArn": ""}
    }
    assert state(aws, "web") in {"PENDING", "READY"}

    deployed = aws.json(
        "create-container-service-deployment",
        "--service-name",
        "web",
        "--containers",
        "file://containers.json",
        "--public-endpoint",
        "file://endpoint.json",
    )["containerService"]
    assert deployed["nextDeployment"]["version"] == 1
    assert deployed["nextDeployment"]["containers"]["web"]["image"] == "nginx:1.27"
    wait_for(lambda: state(aws, "web") == "RUNNING" or None, 120, "web RUNNING")

    active = aws.json(
        "get-container-service-deployments",
        "--service-name",
        "web",
        "--query",
        "deployments[?state=='ACTIVE'] | [0]",
    )
    assert active["version"] == 1
    again = {
        "serviceName": "web",
        "containers": active["containers"],
        "publicEndpoint": active["publicEndpoint"],
    }
    (aws.workdir / "again.json").write_text(json.dumps(again))
    redeployed = aws.json(
        "create-container-service-deployment", "--cli-input-json", "file://again.json"
    )
    assert redeployed["containerService"]["nextDeployment"]["version"] == 2


def test_errors_are_lightsails_with_the_aws_cli_exit_status(aws: AwsCli) -> None:
    missing = aws("get-container-services", "--service-name", "nowhere", ok=False)
    assert missing.returncode == SERVICE_ERROR
    assert f"{NOT_FOUND} when calling the GetContainerServices operation" in missing.stderr
    aws("create-container-service", "--service-name", "twice", "--power", "micro", "--scale", "1")
    again = aws(
        "create-container-service",
        "--service-name",
        "twice",
        "--power",
        "micro",
        "--scale",
        "1",
        ok=False,
    )
    assert again.returncode == SERVICE_ERROR and "(InvalidInputException)" in again.stderr
    elsewhere = aws("get-instances", ok=False)
    assert elsewhere.returncode == SERVICE_ERROR and "not served here" in elsewhere.stderr


def test_two_tenants_see_and_change_only_their_own_services(
    aws: AwsCli,
    cluster: KubeCluster,
    proxy: RecordingProxy,
    tenant_b: Berth,
    tmp_path: pathlib.Path,
) -> None:
    other_namespace = tenant_b.namespace
    (tmp_path / "b").mkdir()
    other = AwsCli(tmp_path / "b", proxy.url, create_key(cluster, other_namespace))
    aws("create-container-service", "--service-name", "alpha", "--power", "nano", "--scale", "1")
    assert other.json("get-container-services") == {"containerServices": []}
    for verb in (
        ("get-container-services", "--service-name", "alpha"),
        ("delete-container-service", "--service-name", "alpha"),
        ("get-container-service-deployments", "--service-name", "alpha"),
        ("tag-resource", "--resource-name", "alpha", "--tags", "key=owner,value=b"),
    ):
        refused = other(*verb, ok=False)
        assert refused.returncode == SERVICE_ERROR and NOT_FOUND in refused.stderr, verb
    other(
        "create-container-service",
        "--service-name",
        "alpha",
        "--power",
        "small",
        "--scale",
        "1",
    )
    mine = aws.json("get-container-services", "--service-name", "alpha")["containerServices"]
    assert [(s["power"], s["tags"]) for s in mine] == [("nano", [])]

    # RBAC decides: without its RoleBinding the key may do nothing.
    cluster.kubectl(
        "delete", "rolebinding", "-n", other_namespace, "berth-lightsail-tenant-berth-lightsail"
    )
    denied = other("get-container-services", ok=False)
    assert denied.returncode == SERVICE_ERROR and "(AccessDeniedException)" in denied.stderr


def test_bad_signatures_unknown_keys_stale_and_replayed_requests_are_refused(
    key: dict[str, str], proxy: RecordingProxy
) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as wrong:
        boto(proxy, key, secret="not-the-secret").get_container_services()
    assert wrong.value.response["Error"]["Code"] == "InvalidSignatureException"
    stranger = {**key, "AccessKeyId": "BKIAAAAAAAAAAAAAAAAA"}
    with pytest.raises(botocore.exceptions.ClientError) as unknown:
        boto(proxy, stranger).get_container_services()
    assert unknown.value.response["Error"]["Code"] == "UnrecognizedClientException"

    stale = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6)
    status, body = send(signed_request(proxy.url, "GetContainerServices", {}, key, at=stale))
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert body["message"].startswith("Signature expired")

    boto(proxy, key).create_container_service(serviceName="once", power="nano", scale=1)
    tag = signed_request(
        proxy.url,
        "TagResource",
        {"resourceName": "once", "tags": [{"key": "a", "value": "b"}]},
        key,
    )
    assert send(tag)[0] == 200
    status, body = send(tag)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    read = signed_request(proxy.url, "GetContainerServices", {"serviceName": "once"}, key)
    assert send(read)[0] == send(read)[0] == 200  # a read sent again changes nothing


def test_boto3_reads_powers_and_metadata_updates_tags_and_deletes(
    key: dict[str, str], proxy: RecordingProxy
) -> None:
    client = boto(proxy, key)
    powers = client.get_container_service_powers()["powers"]
    assert [(p["powerId"], p["name"]) for p in powers][:2] == [
        ("nano-1", "nano"),
        ("micro-1", "micro"),
    ]
    assert client.get_container_api_metadata()["metadata"][0]["name"] == "berth"
    client.create_container_service(
        serviceName="api", power="nano", scale=1, tags=[{"key": "a", "value": "1"}]
    )
    updated = client.update_container_service(serviceName="api", scale=2, isDisabled=True)
    assert (updated["containerService"]["scale"], updated["containerService"]["isDisabled"]) == (
        2,
        True,
    )
    client.tag_resource(resourceName="api", tags=[{"key": "b", "value": "2"}])
    client.untag_resource(resourceName="api", tagKeys=["a"])
    (service,) = client.get_container_services(serviceName="api")["containerServices"]
    assert service["tags"] == [{"key": "b", "value": "2"}]
    # disabled, so no pods: no log events (kwok's pods have no logs to read anyway)
    assert client.get_container_log(serviceName="api", containerName="web")["logEvents"] == []
    try:
        now = dt.datetime.now(dt.UTC)
        data = client.get_container_service_metric_data(
            serviceName="api",
            metricName="CPUUtilization",
            startTime=now - dt.timedelta(hours=1),
            endTime=now,
            period=300,
            statistics=["Average"],
        )
        assert data["metricName"] == "CPUUtilization"
    except client.exceptions.OperationFailureException as error:
        assert "metrics.k8s.io is not served" in str(error)
    client.delete_container_service(serviceName="api")

    def gone() -> bool | None:
        try:
            client.get_container_services(serviceName="api")
        except client.exceptions.NotFoundException:
            return True
        return None

    wait_for(gone, 60, "api deleted")


def kept_logs(service: str, version: str, lines: list[str]) -> dict[str, Any]:
    """A failed version's logs as the operator keeps them (render/failure_logs.py)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": names.failure_logs(version),
            "labels": {names.SERVICE_LABEL: service, names.FAILURE_LOGS_LABEL: version},
        },
        "data": {f"web_{version}-7d9c5-x2k4q": "".join(f"{line}\n" for line in lines)},
    }


def test_boto3_reads_a_failed_versions_kept_lines_filtered_and_a_page_at_a_time(
    cluster: KubeCluster, namespace: str, key: dict[str, str], proxy: RecordingProxy
) -> None:
    client = boto(proxy, key)
    client.create_container_service(serviceName="kept", power="nano", scale=1)
    client.update_container_service(serviceName="kept", isDisabled=True)  # no live pods
    start = dt.datetime(2025, 1, 2, 3, 0, tzinfo=dt.UTC)
    lines = [
        f"{(start + dt.timedelta(milliseconds=i)).isoformat().replace('+00:00', 'Z')} line {i}"
        for i in range(PAGE_SIZE + 5)
    ]
    lines[3] += " ERROR cannot reach db"
    manifest = json.dumps(kept_logs("kept", "kept-v2", lines))
    cluster.kubectl("create", "-n", namespace, "-f", "-", input=manifest)

    first = client.get_container_log(serviceName="kept", containerName="web")
    second = client.get_container_log(
        serviceName="kept", containerName="web", pageToken=first["nextPageToken"]
    )
    errors = client.get_container_log(
        serviceName="kept", containerName="web", filterPattern="ERROR"
    )
    window = client.get_container_log(
        serviceName="kept",
        containerName="web",
        startTime=start + dt.timedelta(milliseconds=10),
        endTime=start + dt.timedelta(milliseconds=12),
    )

    assert len(first["logEvents"]) == PAGE_SIZE
    assert [e["message"] for e in second["logEvents"]] == [
        f"line {i}" for i in range(PAGE_SIZE, PAGE_SIZE + 5)
    ]
    assert "nextPageToken" not in second
    assert [e["message"] for e in errors["logEvents"]] == ["line 3 ERROR cannot reach db"]
    assert [e["message"] for e in window["logEvents"]] == ["line 10", "line 11", "line 12"]


def test_boto3_lists_and_deletes_registered_images_and_says_when_there_is_no_registry(
    key: dict[str, str], proxy: RecordingProxy, kube_api: Any, namespace: str
) -> None:
    client = boto(proxy, key)
    client.create_container_service(serviceName="imgs", power="nano", scale=1)
    digest = "sha256:" + "c0" * 32
    # Registered as `berth push-container-image` would after its push (no registry here).
    image_records.register(BerthClient(KubeRest(kube_api), namespace), "imgs", "site", digest)

    listed = client.get_container_images(serviceName="imgs")["containerImages"]
    client.delete_container_image(serviceName="imgs", image=":imgs.site.1")
    after = client.get_container_images(serviceName="imgs")["containerImages"]

    assert [(i["image"], i["digest"]) for i in listed] == [(":imgs.site.1", digest)]
    assert after == []
    with pytest.raises(client.exceptions.NotFoundException, match="no registry"):
        client.create_container_service_registry_login()


def test_every_answer_the_endpoint_gave_matches_botocores_shape_of_its_operation(
    proxy: RecordingProxy,
) -> None:
    assert proxy.exchanges, "run with the other tests of this module"
    errors = {shape.name: shape for shape in model.service().error_shapes}
    for exchange in proxy.exchanges:
        operation = model.operation(exchange.operation)
        if exchange.status == 200:
            assert operation is not None
            shape = operation.output_shape
            report = ParamValidator().validate(exchange.body, shape) if shape else None
            assert not (report and report.has_errors()), (
                exchange,
                report.generate_report() if report else "",
            )
            continue
        body = dict(exchange.body)
        kind = body.pop("__type")
        if kind in errors:
            report = ParamValidator().validate(body, errors[kind])
            assert not report.has_errors(), (exchange, report.generate_report())
        else:  # the AWS-wide errors of signatures and targets carry a message only
            assert set(body) == {"message"}, exchange
    seen = {e.operation for e in proxy.exchanges if e.status == 200}
    assert seen >= {
        "CreateContainerService",
        "UpdateContainerService",
        "DeleteContainerService",
        "GetContainerServices",
        "CreateContainerServiceDeployment",
        "GetContainerServiceDeployments",
        "GetContainerServicePowers",
        "GetContainerAPIMetadata",
        "TagResource",
        "UntagResource",
    }
