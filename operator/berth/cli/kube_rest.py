"""The kubernetes package as a Rest: for kubeconfigs only it can use (exec plugins, auth
providers, proxies), and for the Lightsail endpoint, a long-lived server that keeps a pooled,
thread-safe client per tenant. The CLI imports this module only when it needs it."""

import json
import os
import pathlib
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException

from berth.cli.errors import CliError
from berth.cli.rest import ACCEPT, JSON, ApiError, Query, Unreachable


class KubeRest:
    def __init__(self, api: k8s.ApiClient) -> None:
        self.api = api

    def request(
        self,
        method: str,
        path: str,
        query: Query = (),
        body: Any = None,
        content_type: str = JSON,
    ) -> Any:
        headers = {"Accept": ACCEPT}
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            serialized = self.api.param_serialize(
                method,
                path,
                query_params=list(query) or None,
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            response = self.api.call_api(*serialized)
            text = response.read().decode(errors="replace")
        except ApiException as error:
            if not error.status:  # the package's word for a TLS or connection failure
                raise Unreachable(str(error.reason)) from error
            raise ApiError(error.status, str(error.reason), error.body or "") from error
        except urllib3.exceptions.HTTPError as error:
            raise Unreachable(str(getattr(error, "reason", None) or error)) from error
        if not 200 <= response.status < 300:
            raise ApiError(response.status, str(response.reason), text)
        if "json" in (response.getheader("Content-Type") or "") and text:
            return json.loads(text)
        return text


def connect(kubeconfig: str, context: str | None) -> tuple[k8s.ApiClient, str | None]:
    """An ApiClient from the kubeconfig (a path list), and the context's namespace."""
    try:
        contexts, active = k8s_config.list_kube_config_contexts(config_file=kubeconfig)
        chosen = active
        if context is not None:
            chosen = next((c for c in contexts if c["name"] == context), None)
            if chosen is None:
                raise CliError(f"context {context!r} not found in {kubeconfig}")
        api = k8s_config.new_client_from_config(
            config_file=kubeconfig, context=context, persist_config=False
        )
    except k8s_config.ConfigException as error:
        raise CliError(f"cannot use kubeconfig {kubeconfig}: {error}") from error
    return api, (chosen or {}).get("context", {}).get("namespace")


def connect_in_cluster() -> k8s.ApiClient:
    configuration = k8s.Configuration()
    k8s_config.load_incluster_config(client_configuration=configuration)
    return k8s.ApiClient(configuration)


def connect_anywhere(kubeconfig_path: str, in_cluster: bool) -> tuple[k8s.ApiClient, str | None]:
    """In the pod's own identity, or by the kubeconfig: the Lightsail endpoint's connection."""
    if in_cluster:
        return connect_in_cluster(), None
    paths = [p for p in kubeconfig_path.split(os.pathsep) if p]
    if not any(pathlib.Path(p).expanduser().exists() for p in paths):
        raise CliError(f"no kubeconfig at {kubeconfig_path}; pass --kubeconfig or set KUBECONFIG")
    return connect(kubeconfig_path, None)
