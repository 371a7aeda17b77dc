#!/usr/bin/env bash
# Install the pinned tools the tests use into $BIN (the Makefile's `make tools`), each
# with `go install PACKAGE@VERSION`, and only when $BIN holds no binary built from
# that package at that version (read from the binary by `go version -m`), so a second
# run does nothing.
#
#   BIN=bin KUSTOMIZE_VERSION=v5.8.2 SOPS_VERSION=v3.9.4 AGE_VERSION=v1.2.1 hack/tools.sh [NAME...]
#
# NAMEs (kustomize, sops, age) install only those; age includes age-keygen.
#
# Cold, on 2 cores: kustomize about 1 min, sops about 4-5 min (its module pulls in the
# cloud KMS SDKs), age under 1 min.
set -euo pipefail

: "${BIN:?BIN names the directory to install into}"
: "${KUSTOMIZE_VERSION:?}" "${SOPS_VERSION:?}" "${AGE_VERSION:?}"

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

# wanted NAME: no arguments install every tool; otherwise only those named
# (`hack/tools.sh kustomize` is what a first render needs).
wanted() { [[ -z "${ONLY}" || " ${ONLY} " == *" $1 "* ]]; }
ONLY="$*"

mkdir -p "$BIN"
if wanted kustomize; then install kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"; fi
if wanted sops; then install sops github.com/getsops/sops/v3/cmd/sops "$SOPS_VERSION"; fi
if wanted age; then install age filippo.io/age/cmd/age "$AGE_VERSION"; fi
if wanted age; then install age-keygen filippo.io/age/cmd/age-keygen "$AGE_VERSION"; fi
