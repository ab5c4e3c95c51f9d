"""`python -m berth.lightsail`: the Lightsail API endpoint, configured by BERTH_* variables."""

import logging
import sys

from berth import settings as settings_module
from berth.cli import connection, kube_rest
from berth.cli.errors import CliError
from berth.lightsail.server import Endpoint, serve


def main() -> int:
    settings = settings_module.load()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    try:
        # The kubernetes package's client: pooled and safe to share between request threads.
        api, _ = kube_rest.connect_anywhere(
            connection.kubeconfig_path(None), connection.in_cluster(None)
        )
    except CliError as error:
        print(f"berth-lightsail: {error}", file=sys.stderr)
        return 1
    server = serve(Endpoint(api, settings))
    host, port = settings.lightsail_host, server.server_port
    scheme = "https" if settings.lightsail_tls_cert else "http"
    # One line a supervisor (make run, the tests) can read the URL from.
    print(f"berth-lightsail listening on {scheme}://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
