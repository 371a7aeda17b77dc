package verify

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const fuzzLimit = 8 << 10

// FuzzReadManifests: whatever stdin holds, the reader never reads past its limit, fails
// with TooLargeError only when the input is over it, and never panics; every object it
// reads survives the compact form a Set keeps, and checking never panics.
func FuzzReadManifests(f *testing.F) {
	goldens, _ := filepath.Glob("../../testdata/*/expected.yaml")
	for _, p := range goldens {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1.g, annotations: &a {x: y}}\nspec: {group: g, version: v1, service: {name: s, namespace: n, port: 443}, caBundle: *a}\n",
		"kind: List\nitems: [{kind: Service, metadata: {name: s, namespace: n}, spec: {ports: [{port: 443, targetPort: https}], selector: {app: x}}}]\n",
		"- - - {kind: APIService}\n---\n--- !!binary AAAA\n...\n%YAML 1.1\n---\n{a: [b, {c: d}]}\n",
		"kind: Deployment\nmetadata: {name: d, namespace: n}\nspec: {template: {metadata: {labels: {app: x, app: y}}, spec: {containers: [{ports: [{containerPort: \"8443\"}]}], volumes: [{secret: {secretName: \"\\u2028\\x7f\"}}]}}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		src := &countingReader{r: bytes.NewReader(in)}
		nodes, err := (&Reader{MaxBytes: fuzzLimit}).Read("-", src)
		if src.n > fuzzLimit+1 {
			t.Fatalf("read %d bytes under a limit of %d", src.n, fuzzLimit)
		}
		var tooLarge *TooLargeError
		if errors.As(err, &tooLarge) && len(in) <= fuzzLimit {
			t.Fatalf("%d bytes under a limit of %d: %v", len(in), fuzzLimit, err)
		}
		if err != nil {
			return
		}
		set, apiServices := NewSet(), 0
		for _, n := range nodes {
			if n.GetKind() == "APIService" {
				apiServices++
			}
			c := n.Copy()
			if pruneToChecked(c) == nil {
				continue
			}
			if b := compact(nil, c.YNode()); decode(string(b)) == nil {
				t.Fatalf("the compact form does not read back: %s", b)
			}
			set.Add(n.Copy())
		}
		r := set.Check(Options{Now: time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC), WarnWithin: time.Hour})
		if r.APIServices != apiServices {
			t.Fatalf("checked %d APIServices of %d", r.APIServices, apiServices)
		}
		if r := Manifests(nodes, Options{}); r.APIServices != apiServices {
			t.Fatalf("Manifests checked %d APIServices of %d", r.APIServices, apiServices)
		}
	})
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
