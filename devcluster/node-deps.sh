#!/usr/bin/env bash
# Installs the Debian packages a real node needs (containerd, runc, CNI plugins, iptables,
# busybox-static for the images), when missing and when this machine can: root with apt-get.
# Anywhere else it only says what is missing; the real-node tests then skip (outside CI).
set -euo pipefail
packages=(containerd runc containernetworking-plugins iptables conntrack busybox-static)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "real node unavailable until these are installed (as root): ${missing[*]}" >&2
  exit 0
fi
echo "installing for the real node: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
  || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
