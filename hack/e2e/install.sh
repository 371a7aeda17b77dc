#!/usr/bin/env bash
# Installs the tools the e2e tests (test/e2e, build tag "e2e") need to run a
# real control plane on loopback, without Docker or a kubelet:
#
#   etcd                     from Debian's etcd-server package (apt), if absent
#   kube-apiserver           built from k8s.io/kubernetes   (see go.mod here)
#   kube-controller-manager  built from k8s.io/kubernetes
#   kubectl                  built from k8s.io/kubernetes (for tests that want
#                            `kubectl apply`; the harness itself does not need it)
#   sample-apiserver         built from k8s.io/sample-apiserver
#
# The Go binaries go to $E2E_BIN_DIR (default: <repo>/.cache/e2e/bin). A stamp
# file there records what was built; when it matches, nothing is rebuilt, so
# the script is cheap to run before every e2e run. Idempotent; needs only Go
# and apt (run as root, or with sudo available, if etcd must be installed).
#
# Environment:
#   E2E_BIN_DIR     where to put the binaries (default <repo>/.cache/e2e/bin;
#                   a relative path is relative to the repository root)
#   E2E_FORCE=1     rebuild even if the stamp matches
#   E2E_SKIP_ETCD=1 do not try to install etcd
set -euo pipefail

# Pinned versions. The Go side of the pin lives in hack/e2e/go.mod; these are
# used for the version ldflags, the stamp and the post-build sanity check.
KUBE_VERSION=v1.37.2
SAMPLE_APISERVER_VERSION=v0.37.2

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "${HERE}/../.." && pwd)"
BIN="${E2E_BIN_DIR:-${REPO}/.cache/e2e/bin}"
# A relative E2E_BIN_DIR is relative to the repository root, as in the Go harness.
[[ "${BIN}" == /* ]] || BIN="${REPO}/${BIN}"
STAMP="${BIN}/.stamp"
BINARIES=(kube-apiserver kube-controller-manager kubectl sample-apiserver)
PACKAGES=(
  k8s.io/kubernetes/cmd/kube-apiserver
  k8s.io/kubernetes/cmd/kube-controller-manager
  k8s.io/kubernetes/cmd/kubectl
  k8s.io/sample-apiserver
)

T0=$(date +%s)
log() { printf '[e2e-install %4ss] %s\n' "$(($(date +%s) - T0))" "$*"; }

# --- etcd -------------------------------------------------------------------
install_etcd() {
  if [[ "${E2E_SKIP_ETCD:-}" == 1 ]]; then
    log "E2E_SKIP_ETCD=1: not installing etcd"
    return
  fi
  if command -v etcd >/dev/null 2>&1; then
    log "etcd present: $(command -v etcd) ($(etcd --version 2>/dev/null | head -n1))"
    return
  fi
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "etcd is not installed and this is not root (and no sudo): install etcd-server manually" >&2
      exit 1
    fi
  fi
  local t=$(date +%s)
  log "installing etcd-server with apt"
  # The package list may be missing or stale on a fresh machine.
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq etcd-server >/dev/null
  command -v etcd >/dev/null 2>&1 || { echo "etcd still not on PATH after installing etcd-server" >&2; exit 1; }
  log "etcd installed in $(($(date +%s) - t))s: $(etcd --version | head -n1)"
}

# --- Go binaries ------------------------------------------------------------
# Mirror what kubernetes' hack/lib/version.sh injects, or the binaries report
# v0.0.0-master. Both variable sets exist at v0.37.2.
version_ldflags() {
  local major minor pkg key out="-s -w"
  major="${KUBE_VERSION#v}"; major="${major%%.*}"
  minor="${KUBE_VERSION#v*.}"; minor="${minor%%.*}"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    for key in gitVersion=${KUBE_VERSION} gitMajor=${major} gitMinor=${minor} gitTreeState=clean; do
      out+=" -X ${pkg}.${key}"
    done
  done
  echo "${out}"
}
LDFLAGS="$(version_ldflags)"
# GOWORK=off: never pick up a go.work from a parent directory.
# GOFLAGS=: ignore the caller's defaults (e.g. -mod=vendor, -tags); flags are explicit.
# CGO_ENABLED=0: static binaries like upstream's, and no C toolchain needed.
# -buildvcs=false: no git stamping (fails e.g. on a clone owned by another user).
BUILD_ENV=(GOWORK=off GOFLAGS= CGO_ENABLED=0)
BUILD_FLAGS=(-buildvcs=false -ldflags "${LDFLAGS}")

# The stamp covers everything that determines the build output.
stamp_content() {
  printf 'kube=%s\nsample-apiserver=%s\ngo=%s\nmodules=%s\nbinaries=%s\nbuild=%s %s\n' \
    "${KUBE_VERSION}" "${SAMPLE_APISERVER_VERSION}" "$(go env GOVERSION)" \
    "$(cat "${HERE}/go.mod" "${HERE}/go.sum" | sha256sum | cut -d' ' -f1)" \
    "${BINARIES[*]}" "${BUILD_ENV[*]}" "${BUILD_FLAGS[*]}"
}

binaries_up_to_date() {
  [[ "${E2E_FORCE:-}" != 1 ]] || return 1
  [[ -f "${STAMP}" ]] || return 1
  [[ "$(cat "${STAMP}")" == "$(stamp_content)" ]] || return 1
  local b
  for b in "${BINARIES[@]}"; do
    [[ -x "${BIN}/${b}" ]] || return 1
  done
}

build_binaries() {
  if binaries_up_to_date; then
    log "binaries in ${BIN} are up to date (${KUBE_VERSION}); nothing to build"
    return
  fi
  mkdir -p "${BIN}"
  rm -f "${STAMP}"

  local t=$(date +%s)
  log "building ${BINARIES[*]} (${KUBE_VERSION}) into ${BIN}"
  log "a cold build takes 12-25 minutes on 2 cores; relinking from the Go build cache ~1 minute"
  # -o DIR/ with several main packages names each binary after its package.
  (
    cd "${HERE}"
    env "${BUILD_ENV[@]}" go build "${BUILD_FLAGS[@]}" -o "${BIN}/" "${PACKAGES[@]}"
  )
  log "built in $(($(date +%s) - t))s"

  # Sanity check: the version ldflags took effect.
  local got
  got="$("${BIN}/kube-apiserver" --version)"
  if [[ "${got}" != "Kubernetes ${KUBE_VERSION}" ]]; then
    echo "unexpected kube-apiserver --version output: ${got}" >&2
    exit 1
  fi
  stamp_content >"${STAMP}"
}

install_etcd
build_binaries
log "done; binaries:"
for b in "${BINARIES[@]}"; do
  printf '  %s\n' "${BIN}/${b}"
done
printf '  %s\n' "$(command -v etcd || echo 'etcd: not found')"
log "total $(($(date +%s) - T0))s"
