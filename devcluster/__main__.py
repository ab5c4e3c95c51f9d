"""`python -m devcluster up|bin`: run the embedded control plane in the foreground."""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

from devcluster.binaries import ensure_binaries
from devcluster.cluster import Cluster, stop_at_exit
from devcluster.processes import ChildFailed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devcluster")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the cluster and keep it running until Ctrl-C")
    up.add_argument("--kubeconfig", type=pathlib.Path, help="where to write the kubeconfig")
    up.add_argument("--nodes", type=int, default=1, help="number of kwok nodes (default 1)")
    commands.add_parser("bin", help="build the binaries if needed and print their folder")
    args = parser.parse_args(argv)

    if args.command == "bin":
        print(ensure_binaries())
        return 0
    return _up(args.kubeconfig, args.nodes)


def _up(kubeconfig: pathlib.Path | None, nodes: int) -> int:
    cluster = Cluster(kubeconfig=kubeconfig.resolve() if kubeconfig else None, nodes=nodes)
    # Signals now arrive as KeyboardInterrupt, also during start() (a first build takes long).
    stop_at_exit(cluster)
    try:
        cluster.start()
        kubectl = cluster.bin_dir / "kubectl"
        print(
            f"cluster up in {cluster.started_in:.1f}s at {cluster.server}\n"
            f"  kubeconfig: {cluster.kubeconfig}\n"
            f"  kubectl:    {kubectl}\n"
            f"  logs:       {cluster.data_dir}/*.log\n\n"
            f"  export KUBECONFIG={cluster.kubeconfig}\n"
            f"  {kubectl} get nodes\n\n"
            "Ctrl-C stops it.",
            flush=True,
        )
        while True:
            time.sleep(1.0)
            cluster.check()
    except KeyboardInterrupt:
        pass
    except ChildFailed as failed:
        print(f"error: {failed}", file=sys.stderr, flush=True)
        return 1
    finally:
        print("stopping...", file=sys.stderr, flush=True)
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
