package config

import (
	"encoding/json"
	"testing"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation/field"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/aggapi/aggapi/config/crd"
	"github.com/aggapi/aggapi/internal/testutil"
)

// schemaChecks are the schema check of the function and the kube-openapi one it replaced.
var schemaChecks = []struct {
	name  string
	check func(map[string]any) field.ErrorList
}{
	{"checker", schemaErrors},
	{"kube-openapi", kubeOpenAPIErrors},
}

// BenchmarkLoad runs the whole Load pipeline on testdata/basic, once per schema check.
func BenchmarkLoad(b *testing.B) {
	doc := testutil.ReadFile(b, "../../testdata/basic/config.yaml")
	for _, c := range schemaChecks {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				raw, err := sigsyaml.YAMLToJSON(doc)
				if err != nil {
					b.Fatal(err)
				}
				if _, errs := loadJSON(raw, c.check); len(errs) > 0 {
					b.Fatal(errs)
				}
			}
		})
	}
}

// BenchmarkSchemaCheck is the schema check alone, on testdata/basic.
func BenchmarkSchemaCheck(b *testing.B) {
	raw, err := sigsyaml.YAMLToJSON(testutil.ReadFile(b, "../../testdata/basic/config.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		b.Fatal(err)
	}
	for _, c := range schemaChecks {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if errs := c.check(generic); len(errs) > 0 {
					b.Fatal(errs)
				}
			}
		})
	}
}

// BenchmarkSchemaSetup is what each process pays once, before its first check (on top
// of kube-openapi's package init, which a benchmark cannot repeat).
func BenchmarkSchemaSetup(b *testing.B) {
	b.Run("checker", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parseSchema(crd.AggregatedAPISchema); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("kube-openapi", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := kubeOpenAPIValidator(crd.AggregatedAPISchema); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkReadNode turns testdata/basic's parsed node into JSON: the bounded reader,
// and the yaml.v3 Decode + encoding/json it replaced.
func BenchmarkReadNode(b *testing.B) {
	var n yaml.Node
	if err := yaml.Unmarshal(testutil.ReadFile(b, "../../testdata/basic/config.yaml"), &n); err != nil {
		b.Fatal(err)
	}
	b.Run("nodeJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, errs := nodeJSON(&n); len(errs) > 0 {
				b.Fatal(errs)
			}
		}
	})
	b.Run("yaml.v3", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var generic map[string]any
			if err := n.Decode(&generic); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(generic); err != nil {
				b.Fatal(err)
			}
		}
	})
}
