#!/usr/bin/env bash
# Builds the pinned metrics-server (go.mod beside this file) into a cache outside the repo, once
# per pin. Prints the bin directory. Rebuilds only when go.mod / go.sum / this script change.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(awk '$1=="require" && $2=="sigs.k8s.io/metrics-server"{print $3} $1=="sigs.k8s.io/metrics-server"{print $2}' "$here/go.mod" | head -1)"
pin="$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" "$here/../cache.sh" | sha256sum | cut -c1-12)"
# shellcheck source=../cache.sh
. "$here/../cache.sh"
cache_open "metrics-server-$version-$pin"
cd "$here"
start=$(date +%s)
echo "building metrics-server $version into $bin (first time only)" >&2
# The stamp metrics-server's Makefile sets (client-go's version), which `--version` prints.
ldflags="-s -w -X k8s.io/client-go/pkg/version.gitVersion=$version"
CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "$ldflags" -o "$bin/metrics-server" \
  sigs.k8s.io/metrics-server/cmd/metrics-server >&2
echo "built metrics-server in $(( $(date +%s) - start ))s" >&2
cache_close
