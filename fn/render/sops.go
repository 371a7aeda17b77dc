package render

import (
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/keys"
	"github.com/aggapi/aggapi/fn/sops"
)

// checkEncrypted refuses to render over SOPS-encrypted objects of this config (or with
// its Secret's identity): reading an encrypted Secret as "no usable certificate" would
// issue a new CA without the old one in the caBundle, and every pod still serving the
// old certificate would fail discovery while the Deployment rolls.
func (r *run) checkEncrypted(items []*yaml.RNode, owner, secretID string) {
	for _, it := range items {
		mine := ownedBy(it, owner) || idOf(it) == secretID
		if !mine && !sops.EncryptedIdentity(it) {
			continue // someone else's, encrypted or not: passed through untouched
		}
		how := sops.Encryption(it)
		if how == "" {
			continue
		}
		switch {
		case mine:
			r.fail(fmt.Sprintf("%s %s%s in the input is SOPS-encrypted (%s): decrypt it before rendering (sops --decrypt --in-place FILE) and encrypt the output again; "+
				"rendered over, it would look like no certificate, and the new CA would not trust the pods still serving the old one (see examples/gitops)",
				it.GetKind(), qualifiedName(it), inFile(it), how), "")
		case sops.EncryptedIdentity(it):
			r.fail(fmt.Sprintf("an item%s is SOPS-encrypted including its kind and name, so it cannot be told apart from this config's Secret: decrypt it before rendering, "+
				"or encrypt only the Secret's data (.sops.yaml: encrypted_regex: ^(data|stringData)$)", inFile(it)), "")
		}
	}
}

// inFile names the file an item came from, when kustomize or kpt said.
func inFile(n *yaml.RNode) string {
	a := n.GetAnnotations()
	for _, k := range []string{keys.LegacyPathAnnotation, keys.PathAnnotation} {
		if p := a[k]; p != "" {
			return " (" + p + ")"
		}
	}
	return ""
}
