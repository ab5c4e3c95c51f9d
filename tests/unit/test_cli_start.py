"""What `berth` loads to start: never the kubernetes package on the way to the API server.

That package takes about half a second to import, more than a whole `kubectl get`; the CLI
has its own HTTP client (http_rest.py) and leaves the package to kubeconfigs with exec plugins.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shlex
import subprocess
import sys

import yaml

from berth.cli.main import build_parser

# Every command, with the flags it needs to get as far as its first call to the API server.
COMMANDS = {
    "create-container-service": "--service-name s --power nano --scale 1",
    "update-container-service": "--service-name s --scale 2",
    "delete-container-service": "--service-name s",
    "get-container-services": "",
    "ls": "",
    "create-container-service-deployment": "--service-name s --containers "
    + shlex.quote('{"web": {"image": "nginx"}}'),
    "get-container-service-deployments": "--service-name s",
    "deploy": "s --image nginx --port 80",
    "rollback": "s --version 1",
    "push-container-image": "--service-name s --label app --image oci:/nowhere",
    "register-container-image": f"--service-name s --label app --digest sha256:{'0' * 64}",
    "get-container-images": "--service-name s",
    "delete-container-image": "--service-name s --image :s.app.1",
    "create-container-service-registry-login": "",
    "create-access-key": "",
    "list-access-keys": "",
    "delete-access-key": "--access-key-id BKIAABCDEFGHIJKLMNOP",
    "get-container-log": "--service-name s --container-name web",
    "logs": "s",
    "get-container-service-metric-data": "--service-name s --metric-name CPUUtilization",
    "get-container-service-powers": "",
    "powers": "",
}
HEAVY = ("kubernetes", "urllib3", "botocore")

PROBE = """
import contextlib, io, json, shlex, sys
from berth.cli.main import main

commands = json.loads(sys.argv[1])
answers = {}
for command, flags in commands.items():
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["--kubeconfig", sys.argv[2], command, *shlex.split(flags)])
    answers[command] = [code, err.getvalue()]
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[3].split(",")))
print(json.dumps({"answers": answers, "loaded": loaded}))
"""


def unreachable_kubeconfig(path: pathlib.Path) -> pathlib.Path:
    """A cluster on a port nothing listens on: every command fails at its first request."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "c",
                "cluster": {"server": "https://127.0.0.1:1", "insecure-skip-tls-verify": True},
            }
        ],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "ctx",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def test_the_table_names_every_command() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert sorted(sub.choices) == sorted(COMMANDS)


def test_no_command_loads_the_kubernetes_package_on_its_way_to_the_api_server(
    tmp_path: pathlib.Path,
) -> None:
    kubeconfig = unreachable_kubeconfig(tmp_path / "config")
    found = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(COMMANDS), str(kubeconfig), ",".join(HEAVY)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    result = json.loads(found.stdout)
    for command, (code, err) in result["answers"].items():
        # Each got as far as the network: what it loaded is what a real run loads.
        assert code == 1 and "cannot reach the Kubernetes API server" in err, (command, err)
    assert result["loaded"] == []


def test_help_loads_neither_the_kubernetes_package_nor_yaml() -> None:
    probe = (
        "import contextlib, io, sys\n"
        "from berth.cli.main import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help'])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'kubernetes', 'yaml', 'urllib3'}))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"
