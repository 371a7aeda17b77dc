package sops

import (
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// maxDepth bounds the walk over hostile input; Kubernetes objects are far shallower.
const maxDepth = 100

// Encryption says how an object shows it is SOPS-encrypted: SOPS's metadata (a
// top-level sops key) or ENC[...] values. "" when it is not.
func Encryption(n *yaml.RNode) string {
	if n.Field("sops") != nil {
		return "it carries SOPS metadata (a top-level `sops` key)"
	}
	if hasEncValue(n.YNode(), 0) {
		return "its values are ENC[...]"
	}
	return ""
}

// EncryptedIdentity tells whether even the kind or name is ciphertext (SOPS without
// encrypted_regex), so nobody can tell what the object is.
func EncryptedIdentity(n *yaml.RNode) bool {
	return isEnc(n.GetKind()) || isEnc(n.GetName())
}

func isEnc(s string) bool { return strings.HasPrefix(s, "ENC[") }

func hasEncValue(n *yaml.Node, depth int) bool {
	if n == nil || depth > maxDepth {
		return false
	}
	if n.Kind == yaml.ScalarNode {
		return isEnc(n.Value)
	}
	for _, c := range n.Content {
		if hasEncValue(c, depth+1) {
			return true
		}
	}
	return false
}
