"""get-container-service-metric-data on the real node, as the berth CLI and as the Lightsail
endpoint answer it, each answer held to botocore's model of the operation."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
from tests import lightsail_model
from tests.e2e.lightsail_support import REGION, EndpointProcess, RecordingProxy
from tests.e2e.live.traffic import Live

from berth import settings
from devcluster.lightsail_process import create_access_key

VERB = "get-container-service-metric-data"
OPERATION = "GetContainerServiceMetricData"
ALL_STATISTICS = ["Average", "Maximum", "Minimum", "SampleCount", "Sum"]


def service(name: str, scale: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "berth.dev/v1alpha1",
        "kind": "ContainerService",
        "metadata": {"name": name},
        "spec": {
            "power": "nano",
            "scale": scale,
            "deployment": {
                "containers": {"web": {"image": "berth.local/hello:v1", "ports": {"80": "HTTP"}}},
                "publicEndpoint": {"containerName": "web", "containerPort": 80},
            },
        },
    }


def cli(live: Live, namespace: str, *args: str) -> tuple[dict[str, Any], str]:
    """`berth -n NAMESPACE get-container-service-metric-data ARGS -o json`: its JSON, which must
    be what `aws lightsail` prints (botocore's output shape), and what it wrote to stderr."""
    result = subprocess.run(
        [sys.executable, "-m", "berth.cli.main", "-n", namespace, VERB, *args, "-o", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "KUBECONFIG": str(live.cluster.kubeconfig)},
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    assert lightsail_model.problems(data, lightsail_model.output_shape(VERB)) == [], data
    return data, result.stderr


def cli_data(live: Live, namespace: str, *args: str) -> dict[str, Any]:
    return cli(live, namespace, *args)[0]


@contextlib.contextmanager
def lightsail(
    live: Live, namespace: str, log: pathlib.Path, env: dict[str, str] | None = None
) -> Iterator[tuple[Any, RecordingProxy]]:
    """A Lightsail endpoint on this host (`env`: more of its settings), a key for `namespace`,
    and a boto3 client that talks to it through a proxy keeping every answer."""
    keys_namespace = settings.load().namespace
    endpoint = EndpointProcess(live.cluster.kubeconfig, keys_namespace, log, REGION, env=env)
    endpoint.start()
    proxy = RecordingProxy(endpoint.url)
    try:
        key = create_access_key(live.cluster.kubeconfig, namespace, keys_namespace)
        client = boto3.session.Session().client(
            "lightsail",
            region_name=REGION,
            endpoint_url=proxy.url,
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )
        yield client, proxy
    finally:
        proxy.stop()
        endpoint.stop()


def shape_problems(proxy: RecordingProxy) -> list[str]:
    """What in the endpoint's answers to GetContainerServiceMetricData (as sent, before boto3
    parses them) botocore's model does not allow."""
    answers = [e for e in proxy.exchanges if e.operation == OPERATION]
    assert answers, f"no {OPERATION} went through the proxy"
    shape = lightsail_model.output_shape(VERB)
    found = []
    for answer in answers:
        assert answer.status == 200, answer
        found += lightsail_model.problems(answer.body, shape)
    return found
