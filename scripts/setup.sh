#!/usr/bin/env bash
# Installs what k8ts and its tests need on Debian 12, as root: Debian packages (only those missing) and the
# npm packages of package-lock.json. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: real parts the tests run against (etcd, registry, image tools, OCI runtimes, networking).
packages=(
  etcd-server          # the etcd v3 backend and its tests
  docker-registry      # a real OCI registry for image pulls in tests
  skopeo umoci         # pack and push test images
  busybox-static       # the userland of the test images
  openssl              # certificate checks in the PKI tests
  attr                 # setfattr: opaque-directory xattrs when unpacking image layers
  runc crun            # OCI runtimes of the built-in container runtime (runc by default)
  containernetworking-plugins  # CNI plugins (bridge, host-local, portmap, loopback) in /usr/lib/cni
  nftables iproute2 iptables   # pod networking and kube-proxy's rules; test network namespaces, veths and bridges
  util-linux bsdutils  # unshare, nsenter, mount, script (a pty for tty containers and exec)
  containerd           # a real CRI runtime our CRI client is tested against
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages: exactly the locked versions. Native addons (better-sqlite3) build from source when no
# prebuilt binary can be fetched; that needs python3, make and g++, which the image has.
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
