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
# 4. encrypt each file again, and keep the new ciphertext only when its content differs
#    from the previous one's, both decrypted by sops (so YAML style does not count: kpt
#    keeps the quotes aggapi writes, sops drops them); otherwise put the previous
#    ciphertext back, so an unchanged render leaves no diff (SOPS encrypts with a new
#    IV every time).
# On failure every decrypted file gets its ciphertext back.
#
# The SOPS rules: $SOPS_CONFIG, else the .sops.yaml nearest the package (the package's
# directory, then its parents up to the repository root), else the one beside this
# script. sops itself would look from the working directory (the repository root) up,
# and miss a .sops.yaml kept beside the package.
#
# Tools: KPT, AGGAPI, SOPS (defaults: kpt on PATH; the repository's bin/aggapi and
# bin/sops if present, else aggapi and sops on PATH).
set -euo pipefail

pkg=${1:?usage: kpt-render.sh PACKAGE (relative to the repository root)}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
tool() { if [[ -x "$root/bin/$1" ]]; then echo "$root/bin/$1"; else echo "$1"; fi; }
KPT=${KPT:-kpt}
AGGAPI=${AGGAPI:-$(tool aggapi)}
SOPS=${SOPS:-$(tool sops)}
cd "$root"
if [[ ! -d $pkg ]]; then
  echo "kpt-render.sh: $pkg: not a directory (give the package's path relative to $root)" >&2
  exit 2
fi

if [[ -z ${SOPS_CONFIG:-} ]]; then
  dir=$(cd "$pkg" && pwd)
  while :; do
    if [[ -f $dir/.sops.yaml ]]; then SOPS_CONFIG=$dir/.sops.yaml; break; fi
    if [[ $dir == "$root" || $dir == / ]]; then SOPS_CONFIG=$here/.sops.yaml; break; fi
    dir=$(dirname "$dir")
  done
fi

tmp=$(mktemp -d)
declare -a files=()
restore() {
  local i
  for i in "${!files[@]}"; do cp "$tmp/$i.enc" "${files[$i]}"; done
  rm -rf "$tmp"
}
trap restore EXIT

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
  [[ -f $f ]] || continue # the render dropped it; so does Git
  "$SOPS" --config "$SOPS_CONFIG" --encrypt "$f" > "$tmp/$i.new"
  if ! cmp -s <("$SOPS" --decrypt --input-type yaml --output-type yaml "$tmp/$i.new") "$tmp/$i.plain"; then
    cp "$tmp/$i.new" "$tmp/$i.enc" # the new ciphertext stays
  fi
  cp "$tmp/$i.enc" "$f"
done
files=() # all encrypted again: nothing for restore to put back
# A Secret file the render just created is plaintext until you encrypt it.
while IFS= read -r f; do
  echo "kpt-render.sh: $f holds a Secret and is not encrypted; before committing: sops --config ${SOPS_CONFIG#"$root"/} --encrypt --in-place $f" >&2
done < <(grep -rl --include='*.yaml' '^kind: Secret$' "$pkg" | xargs -r grep -L '^sops:' || true)
