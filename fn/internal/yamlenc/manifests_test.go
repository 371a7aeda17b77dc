package yamlenc_test

import (
	"encoding/json"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/internal/yamlenc"
	"github.com/aggapi/aggapi/fn/manifests"
	"github.com/aggapi/aggapi/internal/testutil/goldenconfig"
)

// TestEncodeMatchesJSON: every object of every golden config encodes as json.Marshal
// would have it.
func TestEncodeMatchesJSON(t *testing.T) {
	built := 0
	for _, c := range goldenconfig.Valid(t) {
		p, api := c.Path, c.API
		secret := &manifests.SecretPEM{CertPEM: []byte("cert"), KeyPEM: []byte("key"), CAPEM: []byte("ca")}
		objs, err := manifests.Build(api, manifests.Material{Secret: secret, CABundle: []byte("bundle"), PodAnnotations: map[string]string{"on": "yes"}})
		if err != nil {
			continue // a podTemplate the merge checks reject: a bad-input case too
		}
		for _, obj := range objs {
			n, err := yamlenc.Encode(obj)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			raw, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			want, err := yamlenc.JSONNode(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := nodeString(t, n), nodeString(t, want); got != want {
				t.Errorf("%s: Encode differs from encoding/json:\n got:\n%s\nwant:\n%s", p, got, want)
			}
			built++
		}
	}
	if built < 50 {
		t.Fatalf("only %d objects built from the golden configs", built)
	}
}

func nodeString(t *testing.T, n *yaml.Node) string {
	t.Helper()
	s, err := yaml.NewRNode(n).String()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
