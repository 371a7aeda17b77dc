#!/usr/bin/env bash
# Brings the upstream installations `aggapi import` is tested against into the tree,
# from Go modules (offline once the module cache has them), and re-imports the
# examples from them:
#
#   fn/importer/testdata/metrics-server-v0.8.0/input.yaml
#       sigs.k8s.io/metrics-server@v0.8.0 manifests/overlays/release built with the
#       pinned kustomize (bin/kustomize): upstream's components.yaml
#   fn/importer/testdata/prometheus-adapter-v0.12.0/input/
#       sigs.k8s.io/prometheus-adapter@v0.12.0 deploy/manifests, copied
#   examples/metrics-server/{kustomize,kpt}/aggapi.yaml
#   examples/custom-metrics-adapter/{kustomize,kpt}/aggapi.yaml
#       `bin/aggapi import` of the metrics-server input above and of
#       sigs.k8s.io/custom-metrics-apiserver@v1.37.0 test-adapter-deploy/testing-adapter.yaml
#
# The chart renders (fn/importer/testdata/*-chart-*) are not made here: helm is not a
# tool of this repository; fn/importer/testdata/README.md gives the commands.
#
# Usage: hack/import/upstream.sh [--check]
#   --check  change nothing; fail when a file above differs from what it would write
set -euo pipefail

METRICS_SERVER_VERSION=v0.8.0
PROMETHEUS_ADAPTER_VERSION=v0.12.0
CUSTOM_METRICS_APISERVER_VERSION=v1.37.0

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${REPO}"
check=false
[[ "${1:-}" == "--check" ]] && check=true

moddir() {
	go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

out="$(mktemp -d)"
trap 'rm -rf "${out}"' EXIT

ms="$(moddir "sigs.k8s.io/metrics-server@${METRICS_SERVER_VERSION}")"
pa="$(moddir "sigs.k8s.io/prometheus-adapter@${PROMETHEUS_ADAPTER_VERSION}")"
cma="$(moddir "sigs.k8s.io/custom-metrics-apiserver@${CUSTOM_METRICS_APISERVER_VERSION}")"

# The module cache is read-only: kustomize builds a copy.
cp -r "${ms}/manifests" "${out}/ms-manifests"
chmod -R u+w "${out}/ms-manifests"
mkdir -p "${out}/testdata/metrics-server-v0.8.0" "${out}/testdata/prometheus-adapter-v0.12.0/input"
bin/kustomize build "${out}/ms-manifests/overlays/release" 2>/dev/null > "${out}/testdata/metrics-server-v0.8.0/input.yaml"
cp "${pa}"/deploy/manifests/*.yaml "${out}/testdata/prometheus-adapter-v0.12.0/input/"
cp "${cma}/test-adapter-deploy/testing-adapter.yaml" "${out}/testing-adapter.yaml"

# The examples: one import each, with what the example adds layered by the kustomization
# in examples/<example>/import, in the transformer form (kustomize) and as kpt's
# function config.
hold=aggapi.dev/import-local-config
example() { # example input name source
	local example=$1 input=$2 name=$3 source=$4 form exec
	for form in kustomize kpt; do
		exec=()
		[[ ${form} == kustomize ]] && exec=(--exec ../../../bin/aggapi)
		mkdir -p "${out}/${example}-${form}"
		cp "examples/${example}/import/kustomization.yaml" "${out}/${example}-${form}/"
		# kustomize drops local-config objects from its output: the annotation is
		# renamed for the build and back after it.
		bin/aggapi import --name "${name}" "${exec[@]}" --report /dev/null "${input}" \
			| sed "s#from ${input}#from ${source}#; s#config.kubernetes.io/local-config:#${hold}:#" \
			> "${out}/${example}-${form}/imported.yaml"
		{
			sed -n '/^#/p;/^#/!q' "${out}/${example}-${form}/imported.yaml"
			echo "# What the example adds to the import: examples/${example}/import/kustomization.yaml."
			bin/kustomize build "${out}/${example}-${form}" | sed "s#${hold}:#config.kubernetes.io/local-config:#"
		} > "${out}/${example}-${form}.yaml"
	done
}
example metrics-server "${out}/testdata/metrics-server-v0.8.0/input.yaml" metrics-server \
	"sigs.k8s.io/metrics-server@${METRICS_SERVER_VERSION} manifests/overlays/release"
example custom-metrics-adapter "${out}/testing-adapter.yaml" custom-metrics \
	"sigs.k8s.io/custom-metrics-apiserver@${CUSTOM_METRICS_APISERVER_VERSION} test-adapter-deploy/testing-adapter.yaml"

pairs=(
	"testdata/metrics-server-v0.8.0/input.yaml:fn/importer/testdata/metrics-server-v0.8.0/input.yaml"
	"testdata/prometheus-adapter-v0.12.0/input:fn/importer/testdata/prometheus-adapter-v0.12.0/input"
	"metrics-server-kustomize.yaml:examples/metrics-server/kustomize/aggapi.yaml"
	"metrics-server-kpt.yaml:examples/metrics-server/kpt/aggapi.yaml"
	"custom-metrics-adapter-kustomize.yaml:examples/custom-metrics-adapter/kustomize/aggapi.yaml"
	"custom-metrics-adapter-kpt.yaml:examples/custom-metrics-adapter/kpt/aggapi.yaml"
)
status=0
for p in "${pairs[@]}"; do
	from="${out}/${p%%:*}" to="${p#*:}"
	if ${check}; then
		if ! diff -r "${from}" "${to}" >/dev/null 2>&1; then
			echo "hack/import/upstream.sh: ${to} differs from a fresh import (run hack/import/upstream.sh)" >&2
			status=1
		fi
		continue
	fi
	rm -rf "${to}"
	mkdir -p "$(dirname "${to}")"
	cp -r "${from}" "${to}"
done
exit "${status}"
