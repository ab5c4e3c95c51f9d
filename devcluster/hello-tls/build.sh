#!/usr/bin/env bash
# Builds hello-tls (main.go, standard library only) into a cache outside the repo, once per
# change of its sources. Prints the bin directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pin="$(cat "$here/go.mod" "$here/main.go" "$here/build.sh" "$here/../cache.sh" | sha256sum | cut -c1-12)"
# shellcheck source=../cache.sh
. "$here/../cache.sh"
cache_open "hello-tls-$pin"
cd "$here"
start=$(date +%s)
echo "building hello-tls into $bin (first time only)" >&2
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/hello-tls" . >&2
echo "built hello-tls in $(( $(date +%s) - start ))s" >&2
cache_close
