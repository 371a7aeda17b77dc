# aggapi: a KRM function for extension API servers behind the kube-aggregator.
SHELL := /usr/bin/env bash -o pipefail
.DEFAULT_GOAL := help

BIN ?= $(CURDIR)/bin
KUSTOMIZE_VERSION ?= v5.8.2
KUSTOMIZE ?= $(BIN)/kustomize
# sops and age run the GitOps example's SOPS recipes in the pipeline tests.
SOPS_VERSION ?= v3.9.4
AGE_VERSION ?= v1.2.1
# make verify's linters, and govulncheck's vulnerability database: the Go module
# golang.org/x/vulndb at a pseudo-version (its OSV files, indexed by its cmd/indexdb),
# so the check needs only the module proxy. Bump VULNDB_VERSION for newer reports.
GOLANGCI_LINT_VERSION ?= v2.15.0
GOVULNCHECK_VERSION ?= v1.9.0
VULNDB_VERSION ?= v0.0.0-20261105234957-e22db6528018
VULNDB_DIR ?= $(CURDIR)/.cache/vulndb
GOLANGCI_LINT ?= $(BIN)/golangci-lint
GOVULNCHECK ?= $(BIN)/govulncheck
TOOL_VERSIONS = BIN=$(BIN) KUSTOMIZE_VERSION=$(KUSTOMIZE_VERSION) SOPS_VERSION=$(SOPS_VERSION) AGE_VERSION=$(AGE_VERSION) \
	GOLANGCI_LINT_VERSION=$(GOLANGCI_LINT_VERSION) GOVULNCHECK_VERSION=$(GOVULNCHECK_VERSION) \
	VULNDB_VERSION=$(VULNDB_VERSION) VULNDB_DIR=$(VULNDB_DIR)
export PATH := $(BIN):$(PATH)

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: generate
generate: ## Regenerate the AggregatedAPI CRD under config/crd from fn/config.
	go tool controller-gen crd:crdVersions=v1 paths=./fn/config/... output:crd:dir=./config/crd
	go run ./hack/crdjson

# Every Go file of the tree that git tracks or would track (hack/ and the nested
# hack/e2e module included; bin/ and .cache/ are ignored); outside a git checkout,
# every Go file but those under bin/ and .cache/.
# ($(wildcard) drops files deleted but not yet committed.)
GO_FILES = $(wildcard $(shell git ls-files --cached --others --exclude-standard -- '*.go' 2>/dev/null || \
	find . -name '*.go' -not -path './bin/*' -not -path './.cache/*'))

.PHONY: fmt
fmt: ## Format the Go code.
	gofmt -w $(GO_FILES)

.PHONY: vet
vet: ## Run go vet, with and without the e2e build tag.
	go vet ./...
	go vet -tags e2e ./...

.PHONY: verify
verify: verify-fmt vet verify-generate lint vulncheck ## Fail on unformatted Go code, a go vet or linter finding, a called vulnerability, or a generated file that make generate would change.

.PHONY: lint
# --allow-serial-runners: a second run (test/gate's lint test on a copy, another
# checkout) waits for the first one's lock instead of failing with "parallel
# golangci-lint is running".
lint: lint-tools ## Run golangci-lint (.golangci.yml), with and without the e2e build tag.
	$(GOLANGCI_LINT) run --allow-serial-runners ./...
	$(GOLANGCI_LINT) run --allow-serial-runners --build-tags e2e ./...

# govulncheck reads the database that lint-tools wrote from the module proxy, never
# vuln.go.dev. hack/vulncheck fails on every vulnerability the code calls unless
# hack/vulncheck/allow.txt names it with a reason: only the standard library of the
# machine's go1.26.8, fixed in a newer toolchain, is there (x/net was upgraded instead).
.PHONY: vulncheck
vulncheck: lint-tools ## Run govulncheck against the pinned local vulnerability database; fail on a called vulnerability not in hack/vulncheck/allow.txt.
	$(GOVULNCHECK) -db file://$(VULNDB_DIR) -format json ./... | go run ./hack/vulncheck hack/vulncheck/allow.txt

.PHONY: verify-fmt
verify-fmt: ## Fail when gofmt would change a Go file (any file of the tree).
	@[ -n "$(strip $(GO_FILES))" ] || { echo "verify-fmt: no Go files found"; exit 1; }
	@files="$$(gofmt -l $(GO_FILES))"; if [ -n "$$files" ]; then \
		echo "gofmt would change these files (run make fmt):"; echo "$$files"; exit 1; fi

# verify-generate regenerates and fails when that changed a generated file, e.g. a
# field added to fn/config/types.go without make generate. It compares with the
# files as they were, not with git's index, so uncommitted but regenerated work
# passes; on a clean clone (CI) that is git diff --exit-code.
GENERATED = config/crd
.PHONY: verify-generate
verify-generate: ## Fail when make generate changes config/crd (the CRD or its embedded JSON is stale).
	@before="$$(mktemp -d)"; trap 'rm -rf "$$before"' EXIT; \
	cp -R $(GENERATED)/. "$$before"; \
	$(MAKE) --no-print-directory generate >/dev/null || exit 1; \
	if ! diff -rq "$$before" $(GENERATED) >/dev/null; then \
		diff -ru --exclude='*.json' "$$before" $(GENERATED); diff -rq "$$before" $(GENERATED); \
		echo "make generate changed $(GENERATED) (now rewritten; review and commit it): the generated files were stale"; exit 1; fi

##@ Build

.PHONY: build
build: ## Build the function into bin/aggapi and the cluster checks into bin/aggapi-doctor.
	CGO_ENABLED=0 go build -trimpath -o $(BIN)/aggapi ./fn/cmd/aggapi
	CGO_ENABLED=0 go build -trimpath -o $(BIN)/aggapi-doctor ./fn/cmd/aggapi-doctor

.PHONY: kustomize
kustomize: ## Install only the pinned kustomize into bin/ (what a first render needs; about 1 min cold).
	$(TOOL_VERSIONS) hack/tools.sh kustomize

.PHONY: tools
tools: ## Install the pinned kustomize, sops, age and age-keygen into bin/ (idempotent; about 6 min cold, sops most of it).
	$(TOOL_VERSIONS) hack/tools.sh

.PHONY: lint-tools
lint-tools: ## Install the pinned golangci-lint and govulncheck into bin/ and the vulnerability database into .cache/vulndb (idempotent; about 5 min cold).
	$(TOOL_VERSIONS) hack/tools.sh lint

##@ Release

# The version stamped into the binaries and onto every object they render
# (aggapi.dev/version): `make release VERSION=v0.1.0` for a release.
VERSION ?= $(shell git describe --tags --match 'v*' --dirty 2>/dev/null || echo "v0.0.0-dev+$$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)")
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
DIST ?= $(CURDIR)/dist
RELEASE_LDFLAGS := -s -w -X github.com/aggapi/aggapi/fn/version.stamped=$(VERSION)

.PHONY: release
release: ## Cross-compile aggapi and aggapi-doctor for PLATFORMS into DIST (dist/), stamped with VERSION, with archives and SHA256SUMS.
	@case "$(VERSION)" in *[!A-Za-z0-9.+_-]*|"") echo "VERSION '$(VERSION)' must be like v1.2.3" >&2; exit 2;; esac
	rm -rf $(DIST)
	mkdir -p $(DIST)
	@set -e; for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; name=aggapi_$(VERSION)_$${os}_$${arch}; dir=$(DIST)/$$name; \
		echo "building $$name"; \
		GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 go build -trimpath -ldflags '$(RELEASE_LDFLAGS)' -o $$dir/aggapi ./fn/cmd/aggapi; \
		GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 go build -trimpath -ldflags '$(RELEASE_LDFLAGS)' -o $$dir/aggapi-doctor ./fn/cmd/aggapi-doctor; \
		cp -R LICENSE README.md CHANGELOG.md docs $$dir/; \
		tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C $(DIST) -cf - $$name | gzip -9n > $$dir.tar.gz; \
	done
	cd $(DIST) && sha256sum *.tar.gz */aggapi */aggapi-doctor > SHA256SUMS
	@echo "$(DIST): $$(ls $(DIST) | wc -l) entries; check with: (cd $(DIST) && sha256sum -c SHA256SUMS)"

##@ Run

.PHONY: example
example: build kustomize ## Render the bundled example with the pinned kustomize.
	$(KUSTOMIZE) build --enable-alpha-plugins --enable-exec examples/kustomize

##@ Test

.PHONY: test
test: verify build tools unit fuzz e2e ## Run the verify gate, then every test: unit, golden, pipeline, bounded fuzzing, and the e2e on a real control plane.

.PHONY: unit
unit: build tools lint-tools ## Unit, golden and pipeline tests (no fuzzing, no control plane).
	AGGAPI_REQUIRE_TOOLS=1 go test -count=1 ./...

# Each target's budget is a number of executions (about 15 s each on 2 cores), not a
# duration: on Go 1.26 a -fuzztime duration can fail with "context deadline exceeded"
# and no failing input when the deadline lands while a worker is busy
# (go.dev/issue/75804, fixed in Go 1.27), and CI saw exactly that. FUZZTIME=<duration
# or Nx> overrides every target's budget for a longer run. Shrinking an input that adds
# coverage is capped at FUZZMINIMIZE executions: Go's default (60 s) spent most of a
# short budget shrinking the golden seeds of several kilobytes, so little was fuzzed.
FUZZTIME ?=
FUZZMINIMIZE ?= 500x
fuzz-target = go test -run '^$$' -fuzz '^$(1)$$' -fuzztime $(or $(FUZZTIME),$(3)x) -fuzzminimizetime $(FUZZMINIMIZE) $(2)
.PHONY: fuzz
fuzz: ## Run each fuzz target for a fixed number of executions (FUZZTIME=5m to override); a crasher lands in testdata/fuzz.
	$(call fuzz-target,FuzzLoad,./fn/config,40000)
	$(call fuzz-target,FuzzSchema,./fn/config,30000)
	$(call fuzz-target,FuzzNodeJSON,./fn/config,60000)
	$(call fuzz-target,FuzzCheck,./fn/pki,400000)
	$(call fuzz-target,FuzzFunction,./fn/cli,25000)
	$(call fuzz-target,FuzzYAMLStructure,./fn/cli,4000)
	$(call fuzz-target,FuzzReadManifests,./fn/verify,50000)
	$(call fuzz-target,FuzzParseMatchesKyaml,./fn/internal/resourcelist,40000)
	$(call fuzz-target,FuzzEncode,./fn/internal/yamlenc,10000)

.PHONY: e2e-tools
e2e-tools: ## Install etcd, containerd, runc, CNI plugins (apt) and build kube-apiserver, kube-controller-manager, kubectl, sample-apiserver, metrics-server, custom-metrics-test-adapter, kubelet, kube-scheduler, kube-proxy, pause into .cache/e2e/bin (idempotent; 20-35 min cold).
	hack/e2e/install.sh

.PHONY: e2e
e2e: build tools e2e-tools ## End-to-end tests against a real kube-apiserver on loopback, and the rendered pods on a real kubelet (as root).
	E2E_REQUIRE=1 AGGAPI_REQUIRE_TOOLS=1 go test -tags e2e -count=1 -timeout 20m ./test/e2e/...

.PHONY: bench
bench: build tools ## Go benchmarks (render, re-render, 1..200 APIs, PKI), then whole-process timings against the floor. BASELINE=<rev> interleaves that revision's renders.
	go test -run '^$$' -bench . -benchmem ./fn/config ./fn/render ./fn/pki
	go run ./hack/bench -n 100 $(if $(BASELINE),-baseline $(BASELINE))

.PHONY: update-golden
update-golden: ## Rewrite the golden files under testdata/ from the current output.
	go test ./fn/cli/ -run TestGolden -update
