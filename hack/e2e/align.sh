#!/usr/bin/env bash
# Usage: hack/e2e/align.sh [--check] MODULE_DIR...
#
# Pins every module a wrapper module (hack/e2e/metrics-server,
# hack/e2e/custom-metrics-adapter) shares with hack/e2e to the version
# hack/e2e/go.mod selects (kube-apiserver v1.37.2's dependency set), with
# replace directives, until nothing differs. Then the server compiles against
# exactly the packages the control-plane binaries were built from, and Go's
# build cache serves nearly all of its build.
#
# A replace directive with a comment starting "keep:" is a deliberate
# exception (the comment says why) and is left alone.
#
# --check changes nothing and fails if a module differs; install.sh runs it
# before building. Run without --check after changing a version in a go.mod.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export GOWORK=off GOFLAGS=

check=
if [[ "${1:-}" == --check ]]; then
  check=1
  shift
fi
[[ $# -gt 0 ]] || { echo "usage: $0 [--check] MODULE_DIR..." >&2; exit 2; }

# "path version" of every module in a build list, after replacements.
build_list() {
  (cd "$1" && go list -m -f '{{.Path}} {{with .Replace}}{{.Version}}{{else}}{{.Version}}{{end}}' all) | sort
}

# Module paths whose replace directive carries a "// keep:" comment.
kept() {
  awk '/=>/ && /\/\/ *keep:/ {for (i = 1; i <= NF; i++) if ($(i+1) == "=>") {print $i; break}}' "$1/go.mod" | sort -u
}

# Modules of DIR's build list whose version differs from hack/e2e's.
mismatches() {
  join <(build_list "$1") <(build_list "${HERE}") | awk '$2 != $3 {print $1, $3}' |
    join -v 1 - <(kept "$1")
}

# go mod edit writes one replace statement per line; gather them into one
# sorted block under a comment, so the file stays readable.
group_replaces() {
  local gomod="$1/go.mod" lines
  lines="$(awk '
    /^replace \(/ {inblock=1; next}
    inblock && /^\)/ {inblock=0; next}
    inblock && NF {sub(/^[ \t]+/, ""); print; next}
    /^replace / {sub(/^replace /, ""); print}' "${gomod}" | sort -u)"
  awk '
    /^replace \(/ {inblock=1; next}
    inblock {if (/^\)/) inblock=0; next}
    /^replace / {next}
    /^\/\/ Pinned by hack\/e2e\/align.sh/ {next}
    {print}' "${gomod}" | cat -s >"${gomod}.tmp"
  {
    cat "${gomod}.tmp"
    echo
    echo "// Pinned by hack/e2e/align.sh to the versions hack/e2e/go.mod selects."
    echo "replace ("
    while IFS= read -r line; do
      [[ -z "${line}" ]] || printf '\t%s\n' "${line}"
    done <<<"${lines}"
    echo ")"
  } >"${gomod}"
  rm -f "${gomod}.tmp"
  (cd "$1" && go mod edit -fmt && go mod tidy)
}

align() {
  local dir="$1" diff round path version args
  if [[ -n "${check}" ]]; then
    diff="$(mismatches "${dir}")"
    if [[ -n "${diff}" ]]; then
      echo "${dir} selects other versions than hack/e2e for:" >&2
      echo "${diff}" >&2
      echo "run hack/e2e/align.sh ${dir}" >&2
      return 1
    fi
    return 0
  fi
  for round in 1 2 3 4 5; do
    diff="$(mismatches "${dir}")"
    if [[ -z "${diff}" ]]; then
      group_replaces "${dir}"
      echo "${dir}: aligned with hack/e2e after ${round} round(s)"
      return 0
    fi
    args=()
    while read -r path version; do
      args+=("-replace=${path}=${path}@${version}")
    done <<<"${diff}"
    (cd "${dir}" && go mod edit "${args[@]}" && go mod tidy)
  done
  echo "${dir}: still not aligned after 5 rounds:" >&2
  mismatches "${dir}" >&2
  return 1
}

for dir in "$@"; do
  align "$(cd "${dir}" && pwd)"
done
