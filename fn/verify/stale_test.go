package verify

import (
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
)

const staleObjects = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: a-apiserver
  namespace: a
  labels: {aggapi.dev/owner: a}
  annotations: {aggapi.dev/config-digest: "sha256:1111111111111111", aggapi.dev/version: v0.1.0}
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: a
  labels: {aggapi.dev/owner: a}
  annotations: {aggapi.dev/config-digest: "sha256:2222222222222222"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: unstamped
  namespace: a
  labels: {aggapi.dev/owner: a}
`

func TestStale(t *testing.T) {
	nodes, err := kio.FromBytes([]byte(staleObjects))
	if err != nil {
		t.Fatal(err)
	}
	fs := Stale(nodes, []Config{{Name: "a", Digest: "sha256:1111111111111111", Source: "a.yaml"}, {Name: "b", Digest: "sha256:3", Source: "b.yaml"}})
	var got []string
	for _, f := range fs {
		if f.Severity != Error {
			t.Errorf("not an error: %s", f)
		}
		got = append(got, f.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		"AggregatedAPI a (a.yaml): the render is stale: 1 of 3 object(s) were rendered from another config (sha256:222222222222) than this one (sha256:111111111111): Service a/api;",
		"AggregatedAPI a (a.yaml): 1 of 3 object(s) carry no aggapi.dev/config-digest annotation",
		"ConfigMap a/unstamped",
		"AggregatedAPI b (b.yaml): no object in the manifests was rendered from this config",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("findings do not say %q:\n%s", want, all)
		}
	}
	if len(fs) != 3 {
		t.Errorf("%d findings, want 3:\n%s", len(fs), all)
	}
	if fs := Stale(nodes[:1], []Config{{Name: "a", Digest: "sha256:1111111111111111"}}); len(fs) != 0 {
		t.Errorf("a current render: %v", fs)
	}
}
