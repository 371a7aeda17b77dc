package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"
)

// FuzzLoad: whatever a person typed, Load returns a valid config or field errors, and
// never panics; a config it accepts validates again after a round trip.
func FuzzLoad(f *testing.F) {
	paths, _ := filepath.Glob("../../testdata/*/config.yaml")
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte("apiVersion: aggapi.dev/v1alpha1\nkind: AggregatedAPI\nmetadata: {name: a}\nspec: {group: a.b, versions: [{name: v1}], server: {image: i}}\n"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		api, errs := Load(doc)
		if api == nil && len(errs) == 0 {
			t.Fatal("neither a config nor an error")
		}
		if api == nil {
			for _, e := range errs {
				if e.Error() == "" {
					t.Fatal("an error without a message")
				}
			}
			return
		}
		if errs := api.Validate(); len(errs) > 0 {
			t.Fatalf("an accepted config does not validate: %v", errs)
		}
		again, err := api.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, errs := LoadJSON(again); len(errs) > 0 {
			t.Fatalf("an accepted config does not load again: %v", errs)
		}
	})
}

// FuzzSchema: on any document, the schema checker reports what kube-openapi's validator
// reported before it.
func FuzzSchema(f *testing.F) {
	paths, _ := filepath.Glob("../../testdata/*/config.yaml")
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	// Some of the mutations of TestSchemaMatchesKubeOpenAPI, so the fuzzer starts near the bounds.
	if root, err := crdSchema(); err == nil {
		base := testdataConfigs(f)["basic"]
		for i, m := range mutations(root) {
			if b, err := json.Marshal(m.apply(base)); err == nil && i%20 == 0 {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{"spec": {"server": {"port": 1.0000000001, "replicas": 3e9, "resources": {"limits": {"a.b": 1}}}, "versions": [null, {}]}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		raw, err := sigsyaml.YAMLToJSON(doc)
		if err != nil {
			return
		}
		var generic map[string]any
		if json.Unmarshal(raw, &generic) != nil || generic == nil {
			return
		}
		requireSameErrors(t, string(raw), kubeOpenAPIErrors(generic), schemaErrors(generic))
	})
}

// FuzzNodeJSON: on any YAML document, the bounded reader gives what yaml.v3's decoder
// and encoding/json give, or a limit, duplicate-key or null-key error.
func FuzzNodeJSON(f *testing.F) {
	paths, _ := filepath.Glob("../../testdata/*/config.yaml")
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte("a: &x {b: 1, c: [1, 2]}\nd: *x\ne: {<<: *x, b: 2}\nf: {<<: [{g: 1}, {g: 2, h: 3}], h: 4}\n"))
	f.Add([]byte("a: !!binary aGVsbG8=\n!!binary aGk=: 0x1F\nb: [.5, -.inf, 1e400, 0o17, 1_000]\n"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		compareWithYAMLv3(t, doc)
	})
}
