#!/usr/bin/env bash
# Builds the pinned test add-ons (CoreDNS, the cert-manager controller) into a cache outside the
# repo, once per pin. Prints the bin directory. Separate from devcluster/build.sh so that their
# dependencies never move the control plane's Kubernetes pin.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pin="$(cat "$here"/build.sh "$here"/../cache.sh "$here"/*/go.mod "$here"/*/go.sum "$here"/*/main.go | sha256sum | cut -c1-12)"
# shellcheck source=../cache.sh
. "$here/../cache.sh"
cache_open "addons-$pin"
build() {  # build <module dir> <output name>
  local start
  start=$(date +%s)
  echo "building $2 into $bin (first time only)" >&2
  (cd "$here/$1" && go build -mod=mod -trimpath -ldflags "-s -w" -o "$bin/$2" . >&2)
  echo "built $2 in $(( $(date +%s) - start ))s" >&2
}
build coredns coredns
build cert-manager cert-manager-controller
# The CRDs of exactly the pinned cert-manager, from its module source.
crds="$(cd "$here/cert-manager" && go list -mod=mod -m -f '{{.Dir}}' github.com/cert-manager/cert-manager)/deploy/crds"
mkdir -p "$bin/cert-manager-crds"
cp "$crds"/*.yaml "$bin/cert-manager-crds/"
cache_close
