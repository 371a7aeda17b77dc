package sops

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func TestEncryption(t *testing.T) {
	for doc, want := range map[string]string{
		"kind: Secret\ndata: {tls.crt: LS0t}\n":                                         "",
		"kind: Secret\ndata: {tls.crt: 'ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]'}\n": "its values are ENC[...]",
		"kind: Secret\ndata: {tls.crt: LS0t}\nsops: {version: 3.9.0}\n":                 "it carries SOPS metadata (a top-level `sops` key)",
		"kind: ConfigMap\ndata: {note: 'the text ENC[ inside'}\n":                       "",
	} {
		if got := Encryption(yaml.MustParse(doc)); got != want {
			t.Errorf("%s: %q, want %q", doc, got, want)
		}
	}
	if !EncryptedIdentity(yaml.MustParse("kind: 'ENC[AES256_GCM,data:x,type:str]'\nmetadata: {name: a}\n")) {
		t.Errorf("an encrypted kind is not seen")
	}
}
