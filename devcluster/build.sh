#!/usr/bin/env bash
# Builds the pinned control-plane binaries into a cache outside the repo, once per pin.
# Prints the bin directory. Rebuilds only when go.mod / go.sum change.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
k8s_version="$(awk '$1=="k8s.io/kubernetes"{print $2}' "$here/go.mod")"
pin="$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" | sha256sum | cut -c1-12)"
bin="${BERTH_CACHE:-$HOME/.cache/berth}/$k8s_version-$pin/bin"
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
  sigs.k8s.io/kwok/cmd/kwok >&2
mv "$bin/server" "$bin/etcd"
echo "built in $(( $(date +%s) - start ))s" >&2
touch "$bin/.complete"
echo "$bin"
