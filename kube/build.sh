#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kubectl from the
# versions pinned in go.mod into $1 (default ./bin). One `go build` so shared packages compile once.
# Prints one line per compiled package (go build -v) so callers can show progress.
set -euo pipefail
cd "$(dirname "$0")"
out=${1:-bin}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-modcacherw
k8s=$(awk '$1=="k8s.io/kubernetes"{print $2; exit}' go.mod)
minor=$(echo "$k8s" | cut -d. -f2)
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $p.gitVersion=$k8s -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done
mkdir -p "$out"
go build -v -trimpath -pgo=off -ldflags "$ldflags" -o "$out/" ./cmd/...
