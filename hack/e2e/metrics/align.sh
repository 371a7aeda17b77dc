#!/usr/bin/env bash
# Pins every module this wrapper module shares with hack/e2e to the version
# hack/e2e/go.mod selects (kube-apiserver v1.37.2's dependency set), with
# replace directives, until nothing differs. Then metrics-server and the
# custom-metrics test adapter compile against exactly the packages the
# control-plane binaries were built from, and Go's build cache serves most of
# their build. Run it after changing a version in either go.mod; install.sh
# refuses to build when the two modules disagree (it runs `align.sh --check`).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export GOWORK=off GOFLAGS=

# "path version" of every module in a build list, after replacements.
build_list() {
  (cd "$1" && go list -m -f '{{.Path}} {{with .Replace}}{{.Version}}{{else}}{{.Version}}{{end}}' all) | sort
}

# Modules of this build list whose version differs from hack/e2e's.
mismatches() {
  join <(build_list "${HERE}") <(build_list "${HERE}/..") | awk '$2 != $3 {print $1, $3}'
}

# go mod edit writes one replace statement per line; gather them into one
# sorted block under a comment, so the file stays readable.
group_replaces() {
  local gomod="${HERE}/go.mod" lines
  lines="$(awk '
    /^replace \(/ {inblock=1; next}
    inblock && /^\)/ {inblock=0; next}
    inblock && NF {sub(/^[ \t]+/, ""); print; next}
    /^replace / {sub(/^replace /, ""); print}' "${gomod}" | sort -u)"
  awk '
    /^replace \(/ {inblock=1; next}
    inblock {if (/^\)/) inblock=0; next}
    /^replace / {next}
    /^\/\/ Pinned by align.sh/ {next}
    {print}' "${gomod}" | cat -s >"${gomod}.tmp"
  {
    cat "${gomod}.tmp"
    echo
    echo "// Pinned by align.sh to the versions hack/e2e/go.mod selects; do not edit."
    echo "replace ("
    while IFS= read -r line; do
      [[ -z "${line}" ]] || printf '\t%s\n' "${line}"
    done <<<"${lines}"
    echo ")"
  } >"${gomod}"
  rm -f "${gomod}.tmp"
  (cd "${HERE}" && go mod edit -fmt && go mod tidy)
}

if [[ "${1:-}" == --check ]]; then
  diff="$(mismatches)"
  if [[ -n "${diff}" ]]; then
    echo "hack/e2e/metrics selects other versions than hack/e2e for:" >&2
    echo "${diff}" >&2
    echo "run hack/e2e/metrics/align.sh" >&2
    exit 1
  fi
  exit 0
fi

for round in 1 2 3 4 5; do
  diff="$(mismatches)"
  if [[ -z "${diff}" ]]; then
    group_replaces
    echo "aligned with hack/e2e after ${round} round(s)"
    exit 0
  fi
  args=()
  while read -r path version; do
    args+=("-replace=${path}=${path}@${version}")
  done <<<"${diff}"
  (cd "${HERE}" && go mod edit "${args[@]}" && go mod tidy)
done
echo "still not aligned after 5 rounds:" >&2
mismatches >&2
exit 1
