package config

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/aggapi/aggapi/internal/testutil"
)

// TestObjectNamesOfLongestName: with the longest metadata.name Validate accepts, every
// derived name is still a valid object name (a DNS-1123 label, which the namespaced and
// cluster-scoped kinds we emit all accept) and derived from that name.
func TestObjectNamesOfLongestName(t *testing.T) {
	name := strings.Repeat("a", maxNameLength)
	api, errs := Load([]byte(testutil.MinimalConfig(name)))
	if len(errs) > 0 {
		t.Fatalf("the longest name is rejected: %v", errs)
	}
	names := reflect.ValueOf(api.ObjectNames())
	for i := range names.NumField() {
		field, v := names.Type().Field(i).Name, names.Field(i).String()
		if !strings.HasPrefix(v, name) {
			t.Errorf("%s = %q is not derived from metadata.name", field, v)
		}
		for _, msg := range validation.IsDNS1123Label(v) {
			t.Errorf("%s = %q: %s", field, v, msg)
		}
	}
	_, errs = Load([]byte(testutil.MinimalConfig(name + "a")))
	if len(errs) != 1 || errs[0].Field != "metadata.name" {
		t.Errorf("a name longer than %d: want one error at metadata.name, got %v", maxNameLength, errs)
	}
}

// TestObjectNamesProvidedSecret: in provided mode the pods mount the user's Secret.
func TestObjectNamesProvidedSecret(t *testing.T) {
	api := &AggregatedAPI{}
	api.Name = "wardle"
	api.Spec.Certificate = Certificate{Mode: ModeProvided, Provided: &ProvidedCertificate{SecretName: "theirs"}}
	if got := api.ObjectNames().Secret; got != "theirs" {
		t.Errorf("Secret = %q, want the provided one", got)
	}
	api.Spec.Certificate.Mode = ModeGenerate
	if got := api.ObjectNames().Secret; got != "wardle-serving-cert" {
		t.Errorf("Secret = %q", got)
	}
}

// TestLengthMarkersAreTheNameRules: the schema's maxLength of each name field (a marker
// in types.go, there for kubectl explain and editors) is the limit of the apimachinery
// name rule Validate applies to it.
func TestLengthMarkersAreTheNameRules(t *testing.T) {
	root, err := crdSchema()
	if err != nil {
		t.Fatal(err)
	}
	for path, limit := range map[string]int{
		"spec.group":                    validation.DNS1123SubdomainMaxLength,
		"spec.versions[].name":          validation.DNS1035LabelMaxLength,
		"spec.namespace":                validation.DNS1123LabelMaxLength,
		"spec.service.name":             validation.DNS1035LabelMaxLength,
		"spec.server.priorityClassName": validation.DNS1123SubdomainMaxLength,
	} {
		s := root
		for _, step := range strings.Split(path, ".") {
			name, list := strings.CutSuffix(step, "[]")
			if s = s.Properties[name]; s != nil && list {
				s = s.Items
			}
			if s == nil {
				t.Fatalf("%s: not in the schema", path)
			}
		}
		if s.MaxLength == nil || *s.MaxLength != int64(limit) {
			t.Errorf("%s: maxLength %v, the name rule's limit is %d", path, s.MaxLength, limit)
		}
	}
}
