#!/usr/bin/env bash
# Render every API of a GitOps repository (kustomize transformer form) and check them,
# with each serving Secret SOPS-encrypted at rest.
#
#   examples/gitops/render.sh [DIR...]     # default: the directory of this script
#
# An API is a directory holding render/kustomization.yaml (the config, transformer
# form over ../rendered) and rendered/ (manifests.yaml and secret.yaml, committed);
# every API under each DIR is rendered, e.g. apis/<name>/ of a repository of several.
#
#   1. decrypt each rendered/secret.yaml that is encrypted, so the render sees the
#      previous certificate and reuses it: an encrypted Secret is an error, never a
#      silent re-key;
#   2. kustomize build render/ with BOTH --enable-alpha-plugins and --enable-exec;
#   3. aggapi verify, once over every render, with one --config per API: fails on a
#      stale or broken render;
#   4. split each output: the Secret to rendered/secret.yaml, the rest to
#      rendered/manifests.yaml;
#   5. encrypt each Secret again, and keep the new ciphertext only when the content
#      differs from the previous one's, both decrypted by sops; otherwise put the
#      previous ciphertext back, so an unchanged render leaves no diff (SOPS encrypts
#      with a new IV every time).
#
# Nothing is written unless every API rendered and verified; on any failure every
# file is as it was. The plaintext key exists only in a temporary directory and,
# during its API's render, in rendered/secret.yaml. sops finds .sops.yaml from the
# API's directory up.
#
# Tools: KUSTOMIZE, AGGAPI and SOPS name them (defaults: the repository's bin/kustomize,
# bin/aggapi and bin/sops if present, else kustomize, aggapi and sops on PATH).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
tool() { if [[ -x "$root/bin/$1" ]]; then echo "$root/bin/$1"; else echo "$1"; fi; }
KUSTOMIZE=${KUSTOMIZE:-$(tool kustomize)}
AGGAPI=${AGGAPI:-$(tool aggapi)}
SOPS=${SOPS:-$(tool sops)}
rel() { if [[ $1 == "$PWD"/* ]]; then echo "${1#"$PWD"/}"; else echo "$1"; fi; } # for messages

apis=()
for dir in "${@:-$here}"; do
  if [[ ! -d $dir ]]; then
    echo "render.sh: $dir: not a directory" >&2
    exit 2
  fi
  while IFS= read -r k; do
    api=$(cd "$(dirname "$k")/.." && pwd)
    [[ " ${apis[*]} " == *" $api "* ]] || apis+=("$api")
  done < <(find "$dir" -path '*/render/kustomization.yaml' | LC_ALL=C sort)
done
if (( ${#apis[@]} == 0 )); then
  echo "render.sh: no API under ${*:-$here}: an API is a directory holding render/kustomization.yaml and rendered/" >&2
  exit 2
fi
for api in "${apis[@]}"; do
  if [[ ! -f $api/rendered/secret.yaml || ! -f $api/rendered/manifests.yaml ]]; then
    echo "render.sh: $(rel "$api")/rendered: create manifests.yaml and secret.yaml (empty at first) and list them in its kustomization.yaml" >&2
    exit 2
  fi
done

tmp=$(mktemp -d)
restore() {
  local i
  for i in "${!apis[@]}"; do
    if [[ -f $tmp/$i.previous ]]; then cp "$tmp/$i.previous" "${apis[$i]}/rendered/secret.yaml"; fi
  done
  rm -rf "$tmp"
}
trap restore EXIT

# Render each API; its Secret file gets its previous content back at once.
configs=()
for i in "${!apis[@]}"; do
  api=${apis[$i]}
  secret=$api/rendered/secret.yaml
  cp "$secret" "$tmp/$i.previous"
  if grep -q '^sops:' "$secret"; then
    "$SOPS" --decrypt --in-place "$secret"
    cp "$secret" "$tmp/$i.plain"
  fi
  "$KUSTOMIZE" build --enable-alpha-plugins --enable-exec "$api/render" > "$tmp/$i.all.yaml"
  cp "$tmp/$i.previous" "$secret"
  configs+=(--config "$api/render")
  # kustomize prints one document per object, separated by "---", each with a
  # top-level kind.
  awk -v secret="$tmp/$i.secret.yaml" -v rest="$tmp/$i.manifests.yaml" '
    function flush() { if (doc != "") printf "---\n%s", doc > (isSecret ? secret : rest); doc = ""; isSecret = 0 }
    /^---$/ { flush(); next }
    { doc = doc $0 "\n"; if ($0 == "kind: Secret") isSecret = 1 }
    END { flush() }' "$tmp/$i.all.yaml"
  if [[ ! -f $tmp/$i.secret.yaml || $(grep -c '^kind: Secret$' "$tmp/$i.secret.yaml") != 1 ]]; then
    echo "render.sh: $(rel "$api"): expected exactly one Secret in the render" >&2
    exit 1
  fi
done
# Every render against its config, in one check (one --config per API).
all=()
for i in "${!apis[@]}"; do all+=("$tmp/$i.all.yaml"); done
"$AGGAPI" verify "${configs[@]}" "${all[@]}"

# Write: nothing failed.
for i in "${!apis[@]}"; do
  api=${apis[$i]}
  secret=$api/rendered/secret.yaml
  cp "$tmp/$i.manifests.yaml" "$api/rendered/manifests.yaml"
  if [[ ! -f $tmp/$i.plain ]]; then
    cp "$tmp/$i.secret.yaml" "$secret"
    cp "$secret" "$tmp/$i.previous" # the result stays
    echo "render.sh: $(rel "$secret") is not encrypted; before committing: (cd $(rel "$api") && sops --encrypt --in-place rendered/secret.yaml)" >&2
    continue
  fi
  cp "$tmp/$i.secret.yaml" "$secret"
  (cd "$api" && "$SOPS" --encrypt --in-place rendered/secret.yaml) # .sops.yaml from the API's directory up
  if cmp -s <("$SOPS" --decrypt "$secret") "$tmp/$i.plain"; then
    : # unchanged: the previous ciphertext is put back on exit
  else
    cp "$secret" "$tmp/$i.previous" # the new ciphertext stays
  fi
done
for api in "${apis[@]}"; do echo "render.sh: rendered $(rel "$api")" >&2; done
