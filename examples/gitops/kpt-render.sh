#!/usr/bin/env bash
# The SOPS recipe for the kpt form: render a kpt package whose serving Secret lives in
# its own file (certificate.secretFile, e.g. secrets/wardle-serving-cert.yaml) and is
# SOPS-encrypted at rest.
#
#   examples/gitops/kpt-render.sh examples/kpt     # from the repository root
#
# 1. decrypt every encrypted file of the package in place, so the render sees the
#    previous certificate (an encrypted Secret is an error, never a silent re-key);
# 2. kpt fn render --allow-exec (from the repository root: the Kptfile's exec path is
#    relative to kpt's working directory);
# 3. aggapi verify --config PACKAGE PACKAGE;
# 4. encrypt each file again, or put the previous ciphertext back when the render did not
#    change it (compared as kpt reads it: SOPS indents its own way), so an unchanged
#    render leaves no diff (SOPS encrypts with a new IV every time).
# On failure every decrypted file gets its ciphertext back.
#
# Tools: KPT, AGGAPI, SOPS (defaults: kpt and sops on PATH, the repository's bin/aggapi
# if present, else aggapi on PATH).
set -euo pipefail

pkg=${1:?usage: kpt-render.sh PACKAGE (relative to the repository root)}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
KPT=${KPT:-kpt}
if [[ -z ${AGGAPI:-} ]]; then
  if [[ -x "$root/bin/aggapi" ]]; then AGGAPI=$root/bin/aggapi; else AGGAPI=aggapi; fi
fi
SOPS=${SOPS:-sops}
cd "$root"

tmp=$(mktemp -d)
declare -a files=()
restore() {
  local i
  for i in "${!files[@]}"; do cp "$tmp/$i.enc" "${files[$i]}"; done
  rm -rf "$tmp"
}
trap restore EXIT

# canonical prints a file's objects as kpt reads them, whatever tool wrote it.
canonical() {
  rm -rf "$tmp/canonical" && mkdir -p "$tmp/canonical"
  cp "$1" "$tmp/canonical/objects.yaml"
  "$KPT" fn source "$tmp/canonical"
}

while IFS= read -r f; do
  i=${#files[@]}
  files+=("$f")
  cp "$f" "$tmp/$i.enc"
  "$SOPS" --decrypt --in-place "$f"
  cp "$f" "$tmp/$i.plain"
done < <(grep -rl --include='*.yaml' --include='*.yml' '^sops:' "$pkg" || true)

"$KPT" fn render "$pkg" --allow-exec
"$AGGAPI" verify --config "$pkg" "$pkg"

for i in "${!files[@]}"; do
  f=${files[$i]}
  if [[ -f "$f" ]] && [[ $(canonical "$f") != $(canonical "$tmp/$i.plain") ]]; then
    "$SOPS" --encrypt --in-place "$f"
    cp "$f" "$tmp/$i.enc" # the new ciphertext stays
  fi
done
# A Secret file the render just created is plaintext until you encrypt it.
while IFS= read -r f; do
  echo "kpt-render.sh: $f holds a Secret and is not encrypted; before committing: sops --encrypt --in-place $f" >&2
done < <(grep -rl --include='*.yaml' '^kind: Secret$' "$pkg" | xargs -r grep -L '^sops:' || true)
