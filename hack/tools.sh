#!/usr/bin/env bash
# Install the pinned tools the tests use into $BIN (the Makefile's `make tools`), each
# with `go install PACKAGE@VERSION`, and only when $BIN holds no binary built from
# that package at that version (read from the binary by `go version -m`), so a second
# run does nothing.
#
#   BIN=bin KUSTOMIZE_VERSION=v5.8.2 SOPS_VERSION=v3.9.4 AGE_VERSION=v1.2.1 hack/tools.sh [NAME...]
#   BIN=bin GOLANGCI_LINT_VERSION=... GOVULNCHECK_VERSION=... VULNDB_VERSION=... VULNDB_DIR=... hack/tools.sh lint
#
# No NAME installs the test tools (kustomize, sops, age); NAMEs install only those:
# kustomize, sops, age (with age-keygen), or lint (`make verify`'s tools: golangci-lint,
# govulncheck, and govulncheck's vulnerability database). Each NAME needs only its own
# *_VERSION variables.
#
# The vulnerability database comes from the Go module proxy too (vuln.go.dev may be out
# of reach): the module golang.org/x/vulndb holds every report as OSV JSON under
# data/osv, and its own cmd/indexdb writes the v1 layout that `govulncheck -db file://`
# reads (index/db.json, index/modules.json, ID/<id>.json) into VULNDB_DIR, once per
# VULNDB_VERSION.
#
# Cold, on 2 cores: kustomize about 1 min, sops about 4-5 min (its module pulls in the
# cloud KMS SDKs), age under 1 min; golangci-lint about 3 min, govulncheck under 1 min,
# the database about 1-2 min (indexdb's build and a 20 MB module).
set -euo pipefail

: "${BIN:?BIN names the directory to install into}"

# built NAME PACKAGE VERSION: is $BIN/NAME built from PACKAGE at VERSION?
built() {
  [[ -x "$BIN/$1" ]] || return 1
  go version -m "$BIN/$1" 2>/dev/null | awk -v pkg="$2" -v v="$3" '
    $1 == "path" && $2 == pkg { path = 1 }
    $1 == "mod" && $3 == v { mod = 1 }
    END { exit !(path && mod) }'
}

# install NAME PACKAGE VERSION
install() {
  if built "$1" "$2" "$3"; then
    return
  fi
  echo "installing $1 $3 into $BIN ($2)"
  GOBIN="$BIN" go install "$2@$3"
  built "$1" "$2" "$3" || { echo "tools.sh: $BIN/$1 is not $2@$3 after go install" >&2; exit 1; }
}

# wanted NAME: is NAME among the tools to install? (`hack/tools.sh kustomize` is what
# a first render needs.)
wanted() { [[ -z "${ONLY}" || " ${ONLY} " == *" $1 "* ]]; }
ONLY="$*"

# vulndb: write the v1 vulnerability database of golang.org/x/vulndb@$VULNDB_VERSION
# into $VULNDB_DIR, unless it is there: the directory is written whole or not at all.
vulndb() {
  local stamp="$VULNDB_DIR/aggapi-vulndb-version"
  if [[ -f "$VULNDB_DIR/index/db.json" && "$(cat "$stamp" 2>/dev/null)" == "$VULNDB_VERSION" ]]; then
    return
  fi
  install indexdb golang.org/x/vulndb/cmd/indexdb "$VULNDB_VERSION"
  echo "writing the vulnerability database golang.org/x/vulndb@$VULNDB_VERSION into $VULNDB_DIR"
  local src tmp
  src="$(go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | awk -F'"' '$2 == "Dir" { print $4 }')"
  [[ -d "$src/data/osv" ]] || { echo "tools.sh: no data/osv in golang.org/x/vulndb@$VULNDB_VERSION ($src)" >&2; exit 1; }
  mkdir -p "$(dirname "$VULNDB_DIR")"
  tmp="$(mktemp -d "$VULNDB_DIR.XXXXXX")"
  "$BIN/indexdb" -vulns "$src/data/osv" -out "$tmp/db"
  echo "$VULNDB_VERSION" > "$tmp/db/aggapi-vulndb-version"
  rm -rf "$VULNDB_DIR"
  mv "$tmp/db" "$VULNDB_DIR"
  rm -rf "$tmp"
}

# The test tools are every tool when no NAME is given; lint only when named.
if [[ -z "${ONLY}" ]]; then ONLY="kustomize sops age"; fi

mkdir -p "$BIN"
if wanted kustomize; then install kustomize sigs.k8s.io/kustomize/kustomize/v5 "${KUSTOMIZE_VERSION:?}"; fi
if wanted sops; then install sops github.com/getsops/sops/v3/cmd/sops "${SOPS_VERSION:?}"; fi
if wanted age; then install age filippo.io/age/cmd/age "${AGE_VERSION:?}"; fi
if wanted age; then install age-keygen filippo.io/age/cmd/age-keygen "${AGE_VERSION:?}"; fi
if wanted lint; then
  install golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint "${GOLANGCI_LINT_VERSION:?}"
  install govulncheck golang.org/x/vuln/cmd/govulncheck "${GOVULNCHECK_VERSION:?}"
  : "${VULNDB_VERSION:?}" "${VULNDB_DIR:?}"
  vulndb
fi
