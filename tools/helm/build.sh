#!/usr/bin/env bash
# Builds Helm from Go modules (go.mod beside this file pins it, go.sum its dependencies) into a
# cache outside the clone, keyed by the versions, so that a second run reuses it. No Helm
# release binary is downloaded. Prints the path of the binary.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
helm=$(go list -m -f '{{.Version}}' helm.sh/helm/v3)
gover=$(go env GOVERSION)
out="${NETFENCE_CACHE:-$HOME/.cache/netfence}/bin/helm-${helm}_${gover}"
if [[ -x "$out/helm" ]]; then
  echo "$out/helm"
  exit 0
fi
mkdir -p "$out.tmp"
echo "building helm ${helm} with ${gover} into $out (first run only; a few minutes)" >&2
# -trimpath and no debug info: a smaller binary that does not depend on this path.
go build -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=${helm}" -o "$out.tmp/helm" helm.sh/helm/v3/cmd/helm >&2
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out/helm"
