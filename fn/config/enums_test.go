package config

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/aggapi/aggapi/fn/pki"
)

// TestEnumsMatchGo ties every enum of the CRD schema (the kubebuilder markers in
// types.go, the one place an enum is written) to the Go list the code switches on, and
// each field's default to a member of its enum. A new enum fails here until it is tied.
func TestEnumsMatchGo(t *testing.T) {
	keyAlgorithms := []string{}
	for _, a := range pki.KeyAlgorithms() {
		keyAlgorithms = append(keyAlgorithms, string(a))
	}
	mirrors := map[string]struct {
		goList []string
		def    string
	}{
		"spec.server.imagePullPolicy": {
			[]string{string(corev1.PullAlways), string(corev1.PullIfNotPresent), string(corev1.PullNever)}, DefaultImagePullPolicy},
		"spec.certificate.mode": {
			[]string{ModeGenerate, ModeProvided, ModeCertManager, ModeOpenShift}, ModeGenerate},
		"spec.certificate.keyAlgorithm": {keyAlgorithms, DefaultKeyAlgorithm},
		"spec.certificate.certManager.issuerRef.kind": {
			[]string{IssuerKind, ClusterIssuerKind}, IssuerKind},
		"spec.server.baseRules": {[]string{BaseRulesDefault, BaseRulesNone}, DefaultBaseRules},
		// No default: unset leaves the server's own, which is TLS 1.2 for k8s.io/apiserver.
		"spec.server.tls.minVersion": {[]string{TLSVersion12, TLSVersion13}, TLSVersion12},
	}
	root, err := crdSchema()
	if err != nil {
		t.Fatal(err)
	}
	enums := map[string][]string{}
	collectEnums(root, "", enums)
	if len(enums) == 0 {
		t.Fatal("no enum found in the schema")
	}
	for path, enum := range enums {
		m, ok := mirrors[path]
		if !ok {
			t.Errorf("the schema's enum at %s %v is tied to no Go list: add it to this test", path, enum)
			continue
		}
		if !sameSet(enum, m.goList) {
			t.Errorf("%s: the schema's enum is %v, the Go list is %v", path, enum, m.goList)
		}
		if !slices.Contains(enum, m.def) {
			t.Errorf("%s: the default %q is not in the enum %v", path, m.def, enum)
		}
	}
	for path := range mirrors {
		if _, ok := enums[path]; !ok {
			t.Errorf("%s: no enum in the schema any more", path)
		}
	}
}

func collectEnums(s *schema, path string, out map[string][]string) {
	if s == nil {
		return
	}
	if len(s.Enum) > 0 {
		for _, v := range s.Enum {
			out[path] = append(out[path], fmt.Sprint(v))
		}
	}
	for name, p := range s.Properties {
		child := name
		if path != "" {
			child = path + "." + name
		}
		collectEnums(p, child, out)
	}
	collectEnums(s.Items, path+"[]", out)
	collectEnums(s.AdditionalProperties.Schema, path+"[*]", out)
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}
