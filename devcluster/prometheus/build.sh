#!/usr/bin/env bash
# Builds the pinned Prometheus (go.mod beside this file) into a cache outside the repo, once per
# pin. Prints the bin directory. Rebuilds only when go.mod / go.sum / this script change.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
module="$(awk '$1=="require" && $2=="github.com/prometheus/prometheus"{print $3}' "$here/go.mod" | head -1)"
pin="$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" "$here/../cache.sh" | sha256sum | cut -c1-12)"
# shellcheck source=../cache.sh
. "$here/../cache.sh"
cache_open "prometheus-$module-$pin"
cd "$here"
# The module v0.MMM.P is Prometheus 3.MMM-300.P (v0.316.0 is 3.16.0).
minor="${module#v0.}"
version="3.$(( ${minor%%.*} - 300 )).${minor#*.}"
start=$(date +%s)
echo "building Prometheus $version ($module) into $bin (first time only)" >&2
# Minutes on a cold machine, silent meanwhile: say it is still going.
(while sleep 30; do echo "  still building Prometheus: $(( $(date +%s) - start ))s" >&2; done) &
ticker=$!
trap 'kill "$ticker" 2>/dev/null || true' EXIT
# remove_all_sd: no service discovery but static, file and HTTP (the dev cluster names its one
# kubelet), which leaves out the clouds' SDKs. No builtinassets: the web UI's files are not in the
# Go module (they are built with npm); the HTTP API, which Berth reads, is all there.
ldflags="-s -w -X github.com/prometheus/common/version.Version=$version"
ldflags="$ldflags -X github.com/prometheus/common/version.Branch=module-$module"
CGO_ENABLED=0 go build -mod=mod -trimpath -tags remove_all_sd -ldflags "$ldflags" \
  -o "$bin/prometheus" github.com/prometheus/prometheus/cmd/prometheus >&2
echo "built Prometheus in $(( $(date +%s) - start ))s" >&2
cache_close
