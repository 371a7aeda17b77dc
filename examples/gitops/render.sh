#!/usr/bin/env bash
# Render the GitOps example (kustomize transformer form) and check it, with the serving
# Secret SOPS-encrypted at rest:
#
#   1. decrypt rendered/secret.yaml (if it is encrypted), so the render sees the previous
#      certificate and reuses it: an encrypted Secret is an error, never a silent re-key;
#   2. kustomize build render/ with BOTH --enable-alpha-plugins and --enable-exec;
#   3. aggapi verify --config render/: fails on a stale or broken render;
#   4. split the output: the Secret to rendered/secret.yaml, the rest to
#      rendered/manifests.yaml;
#   5. encrypt the Secret again, or, when the render did not change it, put the previous
#      ciphertext back, so an unchanged render leaves no diff (SOPS encrypts with a new
#      IV every time).
#
# The plaintext key exists only in a temporary directory and, during the render, in
# rendered/secret.yaml; the previous file is put back if anything fails.
#
# Tools: KUSTOMIZE, AGGAPI and SOPS name them (defaults: the repository's bin/kustomize
# and bin/aggapi if present, else kustomize and aggapi on PATH; sops on PATH).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
tool() { if [[ -x "$root/bin/$1" ]]; then echo "$root/bin/$1"; else echo "$1"; fi; }
KUSTOMIZE=${KUSTOMIZE:-$(tool kustomize)}
AGGAPI=${AGGAPI:-$(tool aggapi)}
SOPS=${SOPS:-sops}

cd "$here" # sops finds .sops.yaml from the working directory up
secret=rendered/secret.yaml
tmp=$(mktemp -d)
cp "$secret" "$tmp/secret.previous"
restore() { cp "$tmp/secret.previous" "$secret"; rm -rf "$tmp"; }
trap restore EXIT

# canonical prints a file's objects as kustomize does, whatever tool wrote it.
canonical() {
  mkdir -p "$tmp/canonical"
  cp "$1" "$tmp/canonical/objects.yaml"
  printf 'resources:\n- objects.yaml\n' > "$tmp/canonical/kustomization.yaml"
  "$KUSTOMIZE" build "$tmp/canonical"
}

encrypted=false
if grep -q '^sops:' "$secret"; then
  encrypted=true
  "$SOPS" --decrypt --in-place "$secret"
  cp "$secret" "$tmp/secret.plain"
fi

"$KUSTOMIZE" build --enable-alpha-plugins --enable-exec render > "$tmp/all.yaml"
"$AGGAPI" verify --config render "$tmp/all.yaml"

# kustomize prints one document per object, separated by "---", each with a
# top-level kind.
awk -v secret="$tmp/secret.yaml" -v rest="$tmp/manifests.yaml" '
  function flush() { if (doc != "") printf "---\n%s", doc > (isSecret ? secret : rest); doc = ""; isSecret = 0 }
  /^---$/ { flush(); next }
  { doc = doc $0 "\n"; if ($0 == "kind: Secret") isSecret = 1 }
  END { flush() }' "$tmp/all.yaml"
if [[ $(grep -c '^kind: Secret$' "$tmp/secret.yaml") != 1 ]]; then
  echo "render.sh: expected exactly one Secret in the render" >&2
  exit 1
fi

cp "$tmp/manifests.yaml" rendered/manifests.yaml
if ! $encrypted; then
  cp "$tmp/secret.yaml" "$secret"
  cp "$secret" "$tmp/secret.previous" # the result stays
  echo "render.sh: $secret is not encrypted; before committing: sops --encrypt --in-place $secret" >&2
elif [[ $(canonical "$tmp/secret.yaml") == $(canonical "$tmp/secret.plain") ]]; then
  : # unchanged: the previous ciphertext is put back on exit
else
  cp "$tmp/secret.yaml" "$secret"
  "$SOPS" --encrypt --in-place "$secret"
  cp "$secret" "$tmp/secret.previous" # the result stays
fi
echo "render.sh: rendered into $here/rendered" >&2
