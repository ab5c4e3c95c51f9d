#!/usr/bin/env bash
# Builds the pinned Traefik (go.mod beside this file) into a cache outside the repo, once per pin.
# Prints the bin directory. Rebuilds only when go.mod / go.sum / ext / patches / this script change.
#
# cmd/traefik does not build from the module proxy alone, so two of its modules are built from
# scratch copies with the files under patches/<module path>/ put over theirs:
#   github.com/go-acme/lego/v5   providers/dns imports every ACME DNS provider, and a dozen of
#                                their SDKs are not served; ours offers none (no DNS-01 here).
#   github.com/abbot/go-http-auth  Traefik's go.mod replaces it with a fork that is not served;
#                                v0.4.0 plus the two functions the fork adds that Traefik calls.
# (`go build -overlay` would be lighter but refuses files in the module cache.)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
traefik_version="$(awk '$1=="require" && $2=="github.com/traefik/traefik/v3"{print $3} $1=="github.com/traefik/traefik/v3"{print $2}' "$here/go.mod" | head -1)"
pin="$(cd "$here" && find build.sh ../cache.sh go.mod go.sum ext patches -type f | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-12)"
# shellcheck source=../cache.sh
. "$here/../cache.sh"
cache_open "traefik-$traefik_version-$pin"
cd "$here"
start=$(date +%s)
echo "building traefik $traefik_version into $bin (first time only)" >&2
work="$(mktemp -d "${TMPDIR:-/tmp}/berth-traefik-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp go.mod go.sum "$work/"
for module in github.com/go-acme/lego/v5 github.com/abbot/go-http-auth; do
  go mod download "$module"
  # .Dir is that of the replacement where go.mod names one.
  source="$(go list -mod=mod -m -f '{{.Dir}}' "$module")"
  mkdir -p "$work/$module"
  cp -r "$source/." "$work/$module/"
  chmod -R u+w "$work/$module"
  cp -r "patches/$module/." "$work/$module/"
  # go-http-auth v0.4.0 predates modules; a replacement directory needs a go.mod.
  [ -f "$work/$module/go.mod" ] || printf 'module %s\n\ngo 1.16\n' "$module" >"$work/$module/go.mod"
  go mod edit -modfile="$work/go.mod" -replace "$module=$work/$module"
done
# No dashboard: the module zip's webui/static holds only a placeholder, so the UI is empty anyway.
ldflags="-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$traefik_version"
CGO_ENABLED=0 go build -modfile="$work/go.mod" -mod=mod -trimpath -ldflags "$ldflags" \
  -o "$bin/traefik" github.com/traefik/traefik/v3/cmd/traefik >&2
echo "built traefik in $(( $(date +%s) - start ))s" >&2
cache_close
