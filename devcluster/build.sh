#!/usr/bin/env bash
# Builds the pinned control-plane binaries into a cache outside the repo, once per pin.
# Prints the bin directory. Rebuilds only when go.mod / go.sum change.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
k8s_version="$(awk '$1=="k8s.io/kubernetes"{print $2}' "$here/go.mod")"
pin="$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" "$here/cache.sh" | sha256sum | cut -c1-12)"
# shellcheck source=cache.sh
. "$here/cache.sh"
cache_open "$k8s_version-$pin"
minor="$(echo "$k8s_version" | cut -d. -f2)"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version"
ldflags="$ldflags -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$k8s_version"
start=$(date +%s)
cd "$here"
echo "building control plane $k8s_version into $bin (first time only; about 5 min on 2 cores)" >&2
go build -mod=mod -ldflags "$ldflags" -o "$bin/" \
  go.etcd.io/etcd/server/v3 \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubectl \
  k8s.io/kubernetes/cmd/kubelet \
  k8s.io/kubernetes/cmd/kube-proxy \
  sigs.k8s.io/kwok/cmd/kwok >&2
mv "$bin/server" "$bin/etcd"
echo "built in $(( $(date +%s) - start ))s" >&2
cache_close
