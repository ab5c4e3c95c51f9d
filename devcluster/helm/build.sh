#!/usr/bin/env bash
# Builds the pinned helm CLI (go.mod beside this file) into a cache outside the repo, once per pin.
# Prints the bin directory. Rebuilds only when go.mod / go.sum / this script change.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
helm_version="$(awk '$1=="require" && $2=="helm.sh/helm/v3"{print $3} $1=="helm.sh/helm/v3"{print $2}' "$here/go.mod" | head -1)"
pin="$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" "$here/../cache.sh" | sha256sum | cut -c1-12)"
# shellcheck source=../cache.sh
. "$here/../cache.sh"
cache_open "helm-$helm_version-$pin"
cd "$here"
# Helm's own Makefile stamps its version and the Kubernetes version `helm template` assumes
# (client-go v0.X.Y → Kubernetes 1.X) the same way.
k8s_minor="$(go list -mod=mod -m -f '{{.Version}}' k8s.io/client-go | cut -d. -f2)"
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
ldflags="$ldflags -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in pkg/lint/rules pkg/chartutil; do
  ldflags="$ldflags -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1"
  ldflags="$ldflags -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$k8s_minor"
done
start=$(date +%s)
echo "building helm $helm_version into $bin (first time only)" >&2
CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "$ldflags" -o "$bin/helm" helm.sh/helm/v3/cmd/helm >&2
echo "built helm in $(( $(date +%s) - start ))s" >&2
cache_close
