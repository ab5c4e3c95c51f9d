#!/usr/bin/env bash
# Builds the pinned test add-ons (CoreDNS, the cert-manager controller) into a cache outside the
# repo, once per pin. Prints the bin directory. Separate from devcluster/build.sh so that their
# dependencies never move the control plane's Kubernetes pin.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pin="$(cat "$here"/build.sh "$here"/*/go.mod "$here"/*/go.sum "$here"/*/main.go | sha256sum | cut -c1-12)"
bin="${BERTH_CACHE:-$HOME/.cache/berth}/addons-$pin/bin"
if [ -f "$bin/.complete" ]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$bin"
# One build at a time: a second caller waits for the first and then finds the binaries.
exec 9>"$bin/.lock"
flock 9
if [ -f "$bin/.complete" ]; then
  echo "$bin"
  exit 0
fi
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
touch "$bin/.complete"
echo "$bin"
