"""The Lightsail API endpoint (`python -m berth.lightsail`) as a child process, and the AWS CLI
profile that points at it: for `make run` and the tests."""

from __future__ import annotations

import configparser
import json
import os
import pathlib
import subprocess
import sys


class EndpointProcess:
    """`python -m berth.lightsail` on a free port, its URL read from its first line."""

    def __init__(
        self,
        kubeconfig: pathlib.Path,
        keys_namespace: str,
        log: pathlib.Path,
        region: str,
        tls: tuple[pathlib.Path, pathlib.Path] | None = None,
        ca_bundle: pathlib.Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.kubeconfig, self.keys_namespace, self.log = kubeconfig, keys_namespace, log
        self.extra_env = env or {}
        """More settings (BERTH_PROMETHEUS_URL, ...)."""
        self.region, self.tls = region, tls
        self.ca_bundle = ca_bundle
        """The CA that signed `tls`, for clients."""
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> EndpointProcess:
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "BERTH_NAMESPACE": self.keys_namespace,
            "BERTH_REGION": self.region,
            "BERTH_LIGHTSAIL_PORT": "0",
            **self.extra_env,
        }
        if self.tls is not None:
            env["BERTH_LIGHTSAIL_TLS_CERT"], env["BERTH_LIGHTSAIL_TLS_KEY"] = map(str, self.tls)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "berth.lightsail"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=self.log.open("ab"),
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "listening on " not in line:
            raise RuntimeError(f"the endpoint did not start: {line!r}; see {self.log}")
        self.url = line.split("listening on ", 1)[1].strip()
        return self

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)


def create_access_key(
    kubeconfig: pathlib.Path,
    namespace: str,
    keys_namespace: str | None = None,
    service_account: str | None = None,
) -> dict[str, str]:
    """`berth -n NAMESPACE create-access-key`, as an administrator would run it; the key is kept
    in `keys_namespace` (the endpoint's BERTH_NAMESPACE) and acts as `service_account`."""
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    if keys_namespace is not None:
        env["BERTH_NAMESPACE"] = keys_namespace
    extra = ["--service-account", service_account] if service_account else []
    result = subprocess.run(
        [sys.executable, "-m", "berth.cli.main", "-n", namespace, "create-access-key", *extra],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key: dict[str, str] = json.loads(result.stdout)["AccessKey"]
    return key


def write_aws_profile(
    directory: pathlib.Path,
    *,
    url: str,
    region: str,
    key: dict[str, str],
    ca_bundle: pathlib.Path | None,
    profile: str = "default",
) -> tuple[pathlib.Path, pathlib.Path]:
    """The AWS CLI's two files (config, credentials) for a profile that talks to `url`.

    `endpoint_url` in a profile is honoured by the AWS CLI v1 since 1.29 and by boto3 alike.
    """
    directory.mkdir(parents=True, exist_ok=True)
    section = "default" if profile == "default" else f"profile {profile}"
    config = configparser.ConfigParser()
    config[section] = {"region": region, "output": "json", "endpoint_url": url}
    if ca_bundle is not None:
        config[section]["ca_bundle"] = str(ca_bundle)
    credentials = configparser.ConfigParser()
    credentials[profile] = {
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"],
    }
    config_path, credentials_path = directory / "config", directory / "credentials"
    with config_path.open("w") as file:
        config.write(file)
    with os.fdopen(
        os.open(credentials_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w"
    ) as f:
        credentials.write(f)
    return config_path, credentials_path
