#!/usr/bin/env bash
# The steps of the CI workflow (ci/aggapi.yaml) as one script, so a test can run them
# at any date (AGGAPI_NOW) and you can run them locally:
#
#   examples/gitops/ci/aggapi-ci.sh check      # pull requests and pushes
#   examples/gitops/ci/aggapi-ci.sh scheduled  # the daily job, before it opens the PR
#
# check fails only when the committed render is not what the configs give (stale,
# broken, edited by hand), never because a date passed:
#   1. aggapi verify, one --config per API, over the committed rendered/ directories at
#      today's date. Exit 1 fails the check. Exit 3 says a render is due (the serving
#      certificate is inside renewBefore, or a previous CA's overlap has ended): a date,
#      not a mistake, so the check passes with a notice and the scheduled job proposes
#      the re-render. A pull request that changes a config on such a day was rendered
#      with render.sh, which renews too: one render carries both, and it passes.
#   2. On exit 0 nothing is due, so a re-render must change no byte: render.sh, then
#      git diff --exit-code over the rendered directories.
#   3. The deploy layer, built as Argo CD and Flux build it (no plugins), verified
#      against the configs.
# scheduled re-renders every API at today's date (render.sh renews what is due and drops
# a previous CA after its overlap), then checks the deploy layer; the workflow proposes
# whatever changed as a pull request.
#
# An API is a directory holding render/kustomization.yaml, as render.sh finds them.
# Tools: as render.sh (KUSTOMIZE, AGGAPI; SOPS for encrypted Secrets).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
gitops=$(cd "$here/.." && pwd)
root=$(cd "$gitops/../.." && pwd)
tool() { if [[ -x "$root/bin/$1" ]]; then echo "$root/bin/$1"; else echo "$1"; fi; }
KUSTOMIZE=${KUSTOMIZE:-$(tool kustomize)}
AGGAPI=${AGGAPI:-$(tool aggapi)}
export KUSTOMIZE AGGAPI

usage() { echo "usage: $0 check|scheduled" >&2; exit 2; }
[[ $# == 1 ]] || usage

cd "$gitops"
configs=()
rendered=()
while IFS= read -r k; do
  api=$(dirname "$(dirname "$k")")
  configs+=(--config "$api/render")
  rendered+=("$api/rendered")
done < <(find . -path '*/render/kustomization.yaml' | LC_ALL=C sort)
if (( ${#rendered[@]} == 0 )); then
  echo "aggapi-ci.sh: no API under $gitops (a directory holding render/kustomization.yaml)" >&2
  exit 2
fi

# deploy_layer verifies what Argo CD and Flux build; a due render (3) is no failure.
deploy_layer() {
  local code=0
  "$KUSTOMIZE" build deploy | "$AGGAPI" verify "${configs[@]}" || code=$?
  if [[ $code != 0 && $code != 3 ]]; then
    echo "::error::the deploy layer does not verify against the configs"
    exit 1
  fi
}

case $1 in
check)
  code=0
  "$AGGAPI" verify "${configs[@]}" "${rendered[@]}" || code=$?
  case $code in
  0)
    "$gitops/render.sh"
    if ! git diff --exit-code -- "${rendered[@]}"; then
      echo "::error::the committed render is not what the configs give: run $gitops/render.sh and commit the result"
      exit 1
    fi
    ;;
  3)
    echo "::notice::a render is due (certificate renewal or overlap end, see above): the scheduled job proposes it; this check passes"
    ;;
  *)
    echo "::error::the committed render is stale, broken or edited (see above): run $gitops/render.sh and commit the result"
    exit 1
    ;;
  esac
  deploy_layer
  ;;
scheduled)
  "$gitops/render.sh"
  deploy_layer
  git status --short -- "${rendered[@]}"
  ;;
*)
  usage
  ;;
esac
