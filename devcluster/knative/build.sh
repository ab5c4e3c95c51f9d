#!/usr/bin/env bash
# Builds Knative Serving's controller (./controller), autoscaler and webhook, pinned by go.mod
# beside this file, into a cache outside the repo, once per pin, for `make bench BENCH_PEERS=...`
# only.
# Beside the binaries, config/ gets the CRDs, ConfigMaps and webhook configurations of the same
# modules, read from the module cache.
# Prints the bin directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(awk '$1=="knative.dev/serving"{print $2} $1=="require" && $2=="knative.dev/serving"{print $3}' "$here/go.mod" | head -1)"
pin="$(cat "$here/go.mod" "$here/go.sum" "$here/tools.go" "$here/controller/main.go" "$here/build.sh" "$here/../cache.sh" | sha256sum | cut -c1-12)"
# shellcheck source=../cache.sh
. "$here/../cache.sh"
cache_open "knative-serving-$version-$pin"
cd "$here"
start=$(date +%s)
echo "building Knative Serving $version (controller, autoscaler, webhook) into $bin (first time only)" >&2
echo "  downloading modules" >&2
go mod download -x 2>&1 | grep -c '^# get' | sed 's/^/  modules fetched: /' >&2 || true
# The controller is ./controller: Knative's reconcilers with the fixed-port health probes off.
for package in ./controller knative.dev/serving/cmd/autoscaler knative.dev/serving/cmd/webhook; do
  cmd="$(basename "$package")"
  echo "  building $cmd ($(( $(date +%s) - start ))s so far)" >&2
  CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "-s -w" -o "$bin/$cmd" "$package" >&2
done
serving="$(go list -mod=mod -m -f '{{.Dir}}' knative.dev/serving)"
networking="$(go list -mod=mod -m -f '{{.Dir}}' knative.dev/networking)"
caching="$(go list -mod=mod -m -f '{{.Dir}}' knative.dev/caching)"
config="$bin/../config"
rm -rf "$config" && mkdir -p "$config/crds" "$config/configmaps" "$config/webhooks"
cp "$serving"/config/core/300-resources/*.yaml "$networking"/config/{certificate,domain-claim,ingress,serverlessservice}.yaml \
  "$caching/config/image.yaml" "$config/crds/"
cp "$serving"/config/core/configmaps/*.yaml "$networking/config/config-network.yaml" "$config/configmaps/"
cp "$serving"/config/core/webhooks/*.yaml "$config/webhooks/"
chmod -R u+w "$config"
echo "built Knative Serving in $(( $(date +%s) - start ))s" >&2
cache_close
