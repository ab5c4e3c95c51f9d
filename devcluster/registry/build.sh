#!/usr/bin/env bash
# Builds CNCF Distribution's registry (main.go, pinned by go.mod beside this file) into a cache
# outside the repo, once per pin. Prints the bin directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(awk '$1=="github.com/distribution/distribution/v3"{print $2} $1=="require" && $2=="github.com/distribution/distribution/v3"{print $3}' "$here/go.mod" | head -1)"
pin="$(cat "$here/go.mod" "$here/go.sum" "$here/main.go" "$here/build.sh" "$here/../cache.sh" | sha256sum | cut -c1-12)"
# shellcheck source=../cache.sh
. "$here/../cache.sh"
cache_open "registry-$version-$pin"
cd "$here"
start=$(date +%s)
echo "building the registry (distribution $version) into $bin (first time only)" >&2
ldflags="-s -w -X github.com/distribution/distribution/v3/version.version=$version"
CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "$ldflags" -o "$bin/registry" . >&2
echo "built registry in $(( $(date +%s) - start ))s" >&2
cache_close
