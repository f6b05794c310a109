#!/usr/bin/env bash
# Builds kube-apiserver and etcd for the end-to-end suite from Go modules (go.mod beside this
# file) into a cache outside the clone, keyed by the versions, so that a second run reuses them.
# Prints the directory holding the binaries.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
k8s=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
etcd=$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
gover=$(go env GOVERSION)
out="${NETFENCE_CACHE:-$HOME/.cache/netfence}/bin/kube-apiserver-${k8s}_etcd-${etcd}_${gover}"
if [[ -x "$out/kube-apiserver" && -x "$out/etcd" ]]; then
  echo "$out"
  exit 0
fi
mkdir -p "$out.tmp"
# -trimpath and no debug info: smaller binaries, and builds that do not depend on this path.
flags=(-trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=${k8s} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$k8s" | cut -d. -f2)")
echo "building kube-apiserver ${k8s} and etcd ${etcd} with ${gover} into $out (first run only; several minutes)" >&2
go build "${flags[@]}" -o "$out.tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver >&2
go build -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" ./etcd >&2
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out"
