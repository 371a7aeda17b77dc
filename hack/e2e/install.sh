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
#   metrics-server           built from sigs.k8s.io/metrics-server (metrics-server/go.mod)
#   custom-metrics-test-adapter
#                            the test adapter of sigs.k8s.io/custom-metrics-apiserver
#                            (custom-metrics-adapter/go.mod; serves custom.metrics.k8s.io
#                            and external.metrics.k8s.io)
#
# and, for the tests on real pods (test/e2e/pods, a node in a network namespace):
#
#   containerd, runc, CNI plugins, iptables
#                            from Debian (apt), if absent
#   kubelet, kube-scheduler, kube-proxy
#                            built from k8s.io/kubernetes like kube-apiserver (same
#                            module and flags, so Go's build cache serves most of it)
#   pause                    the pod sandbox's process (./pause, standard library only)
#
# The Go binaries go to $E2E_BIN_DIR (default: <repo>/.cache/e2e/bin). Each
# group (control plane, metrics servers) has a stamp file there recording what
# was built; when it matches, nothing is rebuilt, so the script is cheap to run
# before every e2e run. The custom-metrics adapter is built against the very
# module versions kube-apiserver is (align.sh pins them), so after the control
# plane it comes from Go's build cache; metrics-server v0.8.0 only runs on the
# k8s.io/* versions it was released with (see metrics-server/go.mod), so it
# compiles those. Idempotent; needs only Go and apt (run as root, or with sudo
# available, if etcd must be installed).
#
# Environment:
#   E2E_BIN_DIR     where to put the binaries (default <repo>/.cache/e2e/bin;
#                   a relative path is relative to the repository root)
#   E2E_FORCE=1     rebuild even if the stamps match
#   E2E_SKIP_ETCD=1 do not try to install etcd
#   E2E_SKIP_NODE=1 do not install or build what the node needs (containerd & co.,
#                   kubelet, kube-scheduler, kube-proxy, pause)
set -euo pipefail

# Pinned versions. The Go side of the pin lives in hack/e2e/go.mod; these are
# used for the version ldflags, the stamp and the post-build sanity check.
KUBE_VERSION=v1.37.2
SAMPLE_APISERVER_VERSION=v0.37.2
# The Go side of these lives in metrics-server/go.mod and custom-metrics-adapter/go.mod.
METRICS_SERVER_VERSION=v0.8.0
METRICS_SERVER_K8S_VERSION=v0.33.2 # what metrics-server v0.8.0 was released with
CUSTOM_METRICS_APISERVER_VERSION=v1.37.0
# The oracle test (test/e2e/oracle_test.go, certManagerVersion) installs cert-manager's
# CRDs from this module; it reads the module cache only, so it is downloaded here.
CERT_MANAGER_VERSION=v1.21.2
# And prometheus-operator's ServiceMonitor CRD (prometheusOperatorVersion) from this one.
PROMETHEUS_OPERATOR_VERSION=v0.85.0

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "${HERE}/../.." && pwd)"
BIN="${E2E_BIN_DIR:-${REPO}/.cache/e2e/bin}"
# A relative E2E_BIN_DIR is relative to the repository root, as in the Go harness.
[[ "${BIN}" == /* ]] || BIN="${REPO}/${BIN}"
T0=$(date +%s)
log() { printf '[e2e-install %4ss] %s\n' "$(($(date +%s) - T0))" "$*"; }

# --- Debian packages ----------------------------------------------------------
# apt_install WHAT MANUAL PACKAGE... installs PACKAGEs with apt (as root, or through
# sudo), refreshing the package list first: it may be missing or stale on a fresh
# machine. MANUAL says what to do where neither root nor sudo is at hand.
apt_install() {
  local what="$1" manual="$2" sudo=() t
  shift 2
  if [[ "$(id -u)" != 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "${what} missing and this is not root (and no sudo): ${manual}" >&2
      exit 1
    fi
  fi
  t=$(date +%s)
  log "installing $* with apt"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$@" >/dev/null
  log "apt installed $* in $(($(date +%s) - t))s"
}

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
  apt_install "etcd" "install etcd-server manually" etcd-server
  command -v etcd >/dev/null 2>&1 || { echo "etcd still not on PATH after installing etcd-server" >&2; exit 1; }
  log "etcd: $(etcd --version | head -n1)"
}

# --- containerd, runc, CNI plugins (the node of test/e2e/pods) --------------------
# Debian's packages: containerd 1.6 and runc 1.1 run the rendered pods on cgroup v1,
# the bridge and host-local CNI plugins land in /usr/lib/cni. Installing containerd
# starts no daemon here (no systemd); the test runs its own in a namespace.
install_node_packages() {
  if [[ "${E2E_SKIP_NODE:-}" == 1 ]]; then
    log "E2E_SKIP_NODE=1: not installing containerd, runc, CNI plugins"
    return
  fi
  if command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 \
    && command -v iptables >/dev/null 2>&1 && [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]]; then
    log "node packages present: $(containerd --version | cut -d' ' -f3), runc $(runc --version | head -n1 | cut -d' ' -f3)"
    return
  fi
  apt_install "containerd, runc or the CNI plugins" \
    "install containerd runc containernetworking-plugins iptables, or set E2E_SKIP_NODE=1" \
    containerd runc containernetworking-plugins iptables
  command -v containerd >/dev/null 2>&1 || { echo "containerd still not on PATH after apt-get install" >&2; exit 1; }
  log "node packages: $(containerd --version | cut -d' ' -f3)"
}

# --- Go binaries ------------------------------------------------------------
# Mirror what kubernetes' hack/lib/version.sh injects, or the binaries report
# v0.0.0-master. Both variable sets exist at v0.37.2. $1 is the version to
# report (metrics-server prints client-go's, like its own Makefile sets it).
version_ldflags() {
  local version="$1" major minor pkg key out="-s -w"
  major="${version#v}"; major="${major%%.*}"
  minor="${version#v*.}"; minor="${minor%%.*}"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    for key in gitVersion=${version} gitMajor=${major} gitMinor=${minor} gitTreeState=clean; do
      out+=" -X ${pkg}.${key}"
    done
  done
  echo "${out}"
}
# GOWORK=off: never pick up a go.work from a parent directory.
# GOFLAGS=: ignore the caller's defaults (e.g. -mod=vendor, -tags); flags are explicit.
# CGO_ENABLED=0: static binaries like upstream's, and no C toolchain needed.
# -buildvcs=false: no git stamping (fails e.g. on a clone owned by another user).
# Both groups build with the same environment and compiler flags (only the
# linker's -X differs), so packages they share are compiled once.
BUILD_ENV=(GOWORK=off GOFLAGS= CGO_ENABLED=0)

# The stamp covers everything that determines the build output of a group:
# stamp_content "MODULE_DIR..." VERSION_LINES LDFLAGS BINARY...
# (For the control plane this is byte for byte the format of earlier versions
# of this script, so existing stamps stay valid.)
stamp_content() {
  local dirs="$1" versions="$2" ldflags="$3" dir
  shift 3
  printf '%s\ngo=%s\nmodules=%s\nbinaries=%s\nbuild=%s -buildvcs=false -ldflags %s\n' \
    "${versions}" "$(go env GOVERSION)" \
    "$(for dir in ${dirs}; do cat "${dir}/go.mod" "${dir}/go.sum"; done | sha256sum | cut -d' ' -f1)" \
    "$*" "${BUILD_ENV[*]}" "${ldflags}"
}

# up_to_date STAMP CONTENT BINARY...
up_to_date() {
  local stamp="$1" content="$2" b
  shift 2
  [[ "${E2E_FORCE:-}" != 1 ]] || return 1
  [[ -f "${stamp}" ]] || return 1
  [[ "$(cat "${stamp}")" == "${content}" ]] || return 1
  for b in "$@"; do
    [[ -x "${BIN}/${b}" ]] || return 1
  done
}

# go_build LABEL MODULE_DIR LDFLAGS PACKAGE...: builds main packages of one
# wrapper module into ${BIN} (-o DIR/ names each binary after its package).
go_build() {
  local label="$1" dir="$2" ldflags="$3"
  shift 3
  mkdir -p "${BIN}"
  local t=$(date +%s)
  log "${label}: building $* into ${BIN}"
  (
    cd "${dir}"
    env "${BUILD_ENV[@]}" go build -buildvcs=false -ldflags "${ldflags}" -o "${BIN}/" "$@"
  )
  log "${label}: built in $(($(date +%s) - t))s"
}

CONTROL_PLANE_BINARIES=(kube-apiserver kube-controller-manager kubectl sample-apiserver)
build_control_plane() {
  local stamp="${BIN}/.stamp" ldflags content
  ldflags="$(version_ldflags "${KUBE_VERSION}")"
  content="$(stamp_content "${HERE}" "kube=${KUBE_VERSION}"$'\n'"sample-apiserver=${SAMPLE_APISERVER_VERSION}" \
    "${ldflags}" "${CONTROL_PLANE_BINARIES[@]}")"
  if up_to_date "${stamp}" "${content}" "${CONTROL_PLANE_BINARIES[@]}"; then
    log "control plane: binaries in ${BIN} are up to date (${KUBE_VERSION}); nothing to build"
    return
  fi
  rm -f "${stamp}"
  log "control plane: a cold build takes 12-25 minutes on 2 cores; relinking from the Go build cache ~1 minute"
  go_build "control plane" "${HERE}" "${ldflags}" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kubectl \
    k8s.io/sample-apiserver

  # Sanity check: the version ldflags took effect.
  local got
  got="$("${BIN}/kube-apiserver" --version)"
  if [[ "${got}" != "Kubernetes ${KUBE_VERSION}" ]]; then
    echo "unexpected kube-apiserver --version output: ${got}" >&2
    exit 1
  fi
  printf '%s\n' "${content}" >"${stamp}"
}

METRICS_BINARIES=(metrics-server custom-metrics-test-adapter)
build_metrics_servers() {
  local ms="${HERE}/metrics-server" cma="${HERE}/custom-metrics-adapter" stamp="${BIN}/.stamp-metrics"
  local staging="v0.${KUBE_VERSION#v1.}" # k8s.io/apiserver etc. of this Kubernetes release
  local ms_ldflags cma_ldflags content
  # metrics-server prints client-go's version, as its own Makefile sets it;
  # both report their own version at /version.
  ms_ldflags="$(version_ldflags "${METRICS_SERVER_VERSION}")"
  cma_ldflags="$(version_ldflags "${CUSTOM_METRICS_APISERVER_VERSION}")"
  content="$(stamp_content "${ms} ${cma}" \
    "metrics-server=${METRICS_SERVER_VERSION} (k8s.io=${METRICS_SERVER_K8S_VERSION})"$'\n'"custom-metrics-apiserver=${CUSTOM_METRICS_APISERVER_VERSION}"$'\n'"k8s.io=${staging}" \
    "${ms_ldflags} | ${cma_ldflags}" "${METRICS_BINARIES[@]}")"
  if up_to_date "${stamp}" "${content}" "${METRICS_BINARIES[@]}"; then
    log "metrics servers: binaries in ${BIN} are up to date; nothing to build"
    return
  fi
  rm -f "${stamp}"
  # The adapter is built against kube-apiserver's module versions, or not at
  # all: otherwise the build silently recompiles most of k8s.io/*.
  # metrics-server keeps its release's versions (see metrics-server/go.mod).
  "${HERE}/align.sh" --check "${cma}"
  log "metrics servers: metrics-server compiles its own k8s.io/* v0.33 (5-10 minutes cold on 2 cores); the adapter comes mostly from the Go build cache"
  go_build "metrics servers" "${ms}" "${ms_ldflags}" sigs.k8s.io/metrics-server/cmd/metrics-server
  go_build "metrics servers" "${cma}" "${cma_ldflags}" sigs.k8s.io/custom-metrics-apiserver/test-adapter
  # Upstream's binary is named after its directory; say what it is.
  mv -f "${BIN}/test-adapter" "${BIN}/custom-metrics-test-adapter"

  # Sanity checks: the pinned versions went in.
  local got
  got="$("${BIN}/metrics-server" --version)"
  if [[ "${got}" != "${METRICS_SERVER_VERSION}" ]]; then
    echo "unexpected metrics-server --version output: ${got}" >&2
    exit 1
  fi
  check_module "${BIN}/metrics-server" sigs.k8s.io/metrics-server "${METRICS_SERVER_VERSION}"
  check_module "${BIN}/metrics-server" k8s.io/apiserver "${METRICS_SERVER_K8S_VERSION}"
  check_module "${BIN}/custom-metrics-test-adapter" sigs.k8s.io/custom-metrics-apiserver "${CUSTOM_METRICS_APISERVER_VERSION}"
  check_module "${BIN}/custom-metrics-test-adapter" k8s.io/apiserver "${staging}"
  printf '%s\n' "${content}" >"${stamp}"
}

# The node's binaries: built from the control plane's module with its flags, so
# after the control plane only the kubelet's, scheduler's and proxy's own packages
# compile (~2.5 min on 2 cores). pause is the sandbox image's process; the images
# the test builds hold these binaries alone, so each must be static.
NODE_BINARIES=(kubelet kube-scheduler kube-proxy pause)
build_node() {
  if [[ "${E2E_SKIP_NODE:-}" == 1 ]]; then
    log "E2E_SKIP_NODE=1: not building kubelet, kube-scheduler, kube-proxy, pause"
    return
  fi
  local stamp="${BIN}/.stamp-node" ldflags content b
  ldflags="$(version_ldflags "${KUBE_VERSION}")"
  content="$(stamp_content "${HERE}" "kube=${KUBE_VERSION}"$'\n'"pause=$(sha256sum "${HERE}/pause/main.go" | cut -d' ' -f1)" \
    "${ldflags}" "${NODE_BINARIES[@]}")"
  if up_to_date "${stamp}" "${content}" "${NODE_BINARIES[@]}"; then
    log "node: binaries in ${BIN} are up to date (${KUBE_VERSION}); nothing to build"
    return
  fi
  rm -f "${stamp}"
  log "node: ~3 minutes after the control plane on 2 cores (shared build cache)"
  go_build "node" "${HERE}" "${ldflags}" \
    k8s.io/kubernetes/cmd/kubelet \
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kube-proxy \
    github.com/aggapi/aggapi/hack/e2e/pause
  local got
  got="$("${BIN}/kubelet" --version)"
  if [[ "${got}" != "Kubernetes ${KUBE_VERSION}" ]]; then
    echo "unexpected kubelet --version output: ${got}" >&2
    exit 1
  fi
  for b in "${NODE_BINARIES[@]}" sample-apiserver metrics-server custom-metrics-test-adapter; do
    check_static "${BIN}/${b}"
  done
  printf '%s\n' "${content}" >"${stamp}"
}

# check_static BINARY: built with CGO_ENABLED=0, so it runs alone in an image.
check_static() {
  if ! go version -m "$1" | grep -Eq '^[[:space:]]*build[[:space:]]+CGO_ENABLED=0$'; then
    echo "$1 is not a static build (CGO_ENABLED=0): an image holding only it would not run" >&2
    exit 1
  fi
}

# check_module BINARY MODULE VERSION: the binary was built from MODULE at
# VERSION (directly or through a replace directive).
check_module() {
  local info
  info="$(go version -m "$1")"
  if ! grep -Eq "^[[:space:]]*(mod|dep)[[:space:]]+$2[[:space:]]+$3([[:space:]]|$)|^[[:space:]]*=>[[:space:]]+$2[[:space:]]+$3([[:space:]]|$)" <<<"${info}"; then
    echo "$1 was not built from $2 $3:" >&2
    grep -E "[[:space:]]$2[[:space:]]" <<<"${info}" >&2 || true
    exit 1
  fi
}

# --- modules downloaded for their files (nothing to build) ----------------------
# module_dir MODULE@VERSION downloads it into the module cache, outside this
# repository's modules (no go.mod changes), and prints its directory there.
module_dir() {
  local tmp dir
  tmp="$(mktemp -d)"
  dir="$(cd "${tmp}" && GOFLAGS= go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  rmdir "${tmp}"
  printf '%s\n' "${dir}"
}

# cert-manager's CRDs.
download_cert_manager() {
  local dir
  dir="$(module_dir "github.com/cert-manager/cert-manager@${CERT_MANAGER_VERSION}")"
  if [[ -z "${dir}" || ! -f "${dir}/deploy/crds/cert-manager.io_certificates.yaml" ]]; then
    echo "cert-manager ${CERT_MANAGER_VERSION}: no deploy/crds in the module download" >&2
    exit 1
  fi
  log "cert-manager ${CERT_MANAGER_VERSION} CRDs: ${dir}/deploy/crds"
}

# prometheus-operator's ServiceMonitor CRD.
download_prometheus_operator() {
  local dir crd=example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml
  dir="$(module_dir "github.com/prometheus-operator/prometheus-operator@${PROMETHEUS_OPERATOR_VERSION}")"
  if [[ -z "${dir}" || ! -f "${dir}/${crd}" ]]; then
    echo "prometheus-operator ${PROMETHEUS_OPERATOR_VERSION}: no ${crd} in the module download" >&2
    exit 1
  fi
  log "prometheus-operator ${PROMETHEUS_OPERATOR_VERSION} ServiceMonitor CRD: ${dir}/${crd}"
}

# aggapi import's upstream installations: TestImportedExamplesAreFresh re-imports
# examples/metrics-server and examples/custom-metrics-adapter from these modules'
# manifests (hack/import/upstream.sh) and reads the module cache only.
IMPORT_UPSTREAM_MODULES=(
  "sigs.k8s.io/metrics-server@${METRICS_SERVER_VERSION}"
  "sigs.k8s.io/prometheus-adapter@v0.12.0"
  "sigs.k8s.io/custom-metrics-apiserver@${CUSTOM_METRICS_APISERVER_VERSION}"
)
download_import_upstream() {
  local m
  for m in "${IMPORT_UPSTREAM_MODULES[@]}"; do
    [[ -n "$(module_dir "${m}")" ]] || { echo "${m}: no module directory after download" >&2; exit 1; }
  done
  log "aggapi import's upstream modules: ${IMPORT_UPSTREAM_MODULES[*]}"
}

install_etcd
install_node_packages
build_control_plane
build_metrics_servers
build_node
download_cert_manager
download_prometheus_operator
download_import_upstream
log "done; binaries:"
for b in "${CONTROL_PLANE_BINARIES[@]}" "${METRICS_BINARIES[@]}" "${NODE_BINARIES[@]}"; do
  printf '  %s\n' "${BIN}/${b}"
done
printf '  %s\n' "$(command -v etcd || echo 'etcd: not found')"
log "total $(($(date +%s) - T0))s"
