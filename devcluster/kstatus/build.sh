#!/usr/bin/env bash
# Builds the kstatus judge (main.go, pinned by go.mod beside this file) into a cache outside the
# repo, once per pin. Prints the bin directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(awk '$1=="sigs.k8s.io/cli-utils"{print $2}' "$here/go.mod" | head -1)"
pin="$(cat "$here/go.mod" "$here/go.sum" "$here/main.go" "$here/build.sh" "$here/../cache.sh" | sha256sum | cut -c1-12)"
# shellcheck source=../cache.sh
. "$here/../cache.sh"
cache_open "kstatus-$version-$pin"
cd "$here"
start=$(date +%s)
echo "building the kstatus judge (cli-utils $version) into $bin (first time only)" >&2
CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "-s -w" -o "$bin/kstatus" . >&2
echo "built kstatus in $(( $(date +%s) - start ))s" >&2
cache_close
