package yamlenc

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// viaJSON is the reference: json.Marshal, decoded generically, as a node.
func viaJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	n, err := jsonNode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return nodeString(t, n)
}

func nodeString(t *testing.T, n *yaml.Node) string {
	t.Helper()
	s, err := yaml.NewRNode(n).String()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func assertEncodesLikeJSON(t *testing.T, name string, v any) {
	t.Helper()
	n, err := Encode(v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if got, want := nodeString(t, n), viaJSON(t, v); got != want {
		t.Errorf("%s: Encode differs from encoding/json:\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

// TestEncodeMatchesJSONOnEdges: the encoding/json rules our objects do not all reach.
func TestEncodeMatchesJSONOnEdges(t *testing.T) {
	type inner struct {
		A string `json:"a"`
		B int    `json:"b,omitempty"`
	}
	type Embedded struct {
		E  string `json:"e"`
		Sh string `json:"shadowed"`
	}
	type withEverything struct {
		Embedded
		*inner
		Sh        string            `json:"shadowed"`
		Skip      string            `json:"-"`
		unexp     string            // unexported: not encoded
		NoTag     string            // named by the Go field
		Bytes     []byte            `json:"bytes"`
		NilBytes  []byte            `json:"nilBytes"`
		NilSlice  []string          `json:"nilSlice"`
		Empty     []string          `json:"empty,omitempty"`
		Zero      time.Time         `json:"zero,omitzero"`
		ZeroMeta  metav1.Time       `json:"zeroMeta,omitzero"`
		Meta      metav1.Time       `json:"meta"`
		Dur       metav1.Duration   `json:"dur"`
		Qty       resource.Quantity `json:"qty"`
		QtyPtr    *resource.Quantity
		IntStr    intstr.IntOrString `json:"intStr"`
		StrInt    intstr.IntOrString `json:"strInt"`
		IntKeys   map[int]string     `json:"intKeys"`
		NilMap    map[string]int     `json:"nilMap"`
		Any       any                `json:"any"`
		Quoted    int                `json:"quoted,string"`
		QuotedS   string             `json:"quotedS,string"`
		Float     float64            `json:"float"`
		BigFloat  float64            `json:"bigFloat"`
		Bool      bool               `json:"bool,omitempty"`
		Ptr       *int32             `json:"ptr"`
		Arr       [2]uint8           `json:"arr"`
		YAML11    []string           `json:"yaml11"`
		Interface json.Marshaler     `json:"iface"`
	}
	v := withEverything{
		Embedded: Embedded{E: "embedded", Sh: "loses"},
		Sh:       "wins",
		Skip:     "x",
		unexp:    "x",
		NoTag:    "n",
		Bytes:    []byte("hello"),
		Meta:     metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		Dur:      metav1.Duration{Duration: 90 * time.Second},
		Qty:      resource.MustParse("128Mi"),
		QtyPtr:   ptr.To(resource.MustParse("100m")),
		IntStr:   intstr.FromInt32(8443),
		StrInt:   intstr.FromString("https"),
		IntKeys:  map[int]string{10: "b", 2: "a"},
		Any:      map[string]any{"x": []any{1, "y", nil, true}},
		Quoted:   7,
		QuotedS:  "q",
		Float:    1.5,
		BigFloat: 1e21,
		Ptr:      ptr.To[int32](65532),
		Arr:      [2]uint8{1, 2},
		YAML11:   []string{"yes", "on", "1:20", "true", "123", "0x1F", "null", "~", ""},
	}
	assertEncodesLikeJSON(t, "edges", v)
	assertEncodesLikeJSON(t, "edges with embedded pointer", withEverything{inner: &inner{A: "promoted"}})

	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "d", Labels: map[string]string{"name": "first", "a": "b"}},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
			}}},
			Volumes: []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		}}},
	}
	assertEncodesLikeJSON(t, "deployment", d)
}

// TestYAML11StringsAreQuoted: what go-yaml v2 (kubectl) would not read back as a string
// is double-quoted, as yaml.Marshal quotes it.
func TestYAML11StringsAreQuoted(t *testing.T) {
	for _, s := range []string{"yes", "No", "on", "OFF", "y", "1:20", "-3:25:45.5", "+1_0:05"} {
		if n := StringNode(s); n.Style != yaml.DoubleQuotedStyle {
			t.Errorf("%q is not quoted", s)
		}
	}
	// The rule as go-yaml v3 writes it; our matcher must agree on every probe.
	base60 := regexp.MustCompile(`^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`)
	for _, s := range []string{"1:20", "1:2", "1:60", "1:77", "1:123", "12:34:56", "1:", ":1", "1:20.5", "1:20.", "1:20.5.5",
		"-1:1", "+1:1", "a1:1", "1_000:00", "1:2_0", "10", "", "1:05:", "1:0a"} {
		if got, want := isBase60Float(s), base60.MatchString(s); got != want {
			t.Errorf("isBase60Float(%q) = %v, go-yaml says %v", s, got, want)
		}
	}
	var buf bytes.Buffer
	if err := yaml.NewEncoder(&buf).Encode(yaml.NewRNode(StringNode("plain")).YNode()); err != nil || buf.String() != "plain\n" {
		t.Errorf("an ordinary string is not plain: %q %v", buf.String(), err)
	}
}

// jsonOrText has MarshalJSON on its pointer and MarshalText on its value: encoding/json
// calls MarshalJSON where the value is addressable and MarshalText where it is not.
type jsonOrText struct{ V string }

func (j *jsonOrText) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"json": j.V})
}
func (j jsonOrText) MarshalText() ([]byte, error) { return []byte("text:" + j.V), nil }

// TestEncodeMarshalerByAddressability: Encode picks MarshalJSON or MarshalText as
// encoding/json does, by whether the value is addressable (it used to write the text
// form everywhere).
func TestEncodeMarshalerByAddressability(t *testing.T) {
	type holder struct {
		Field jsonOrText            `json:"field"`
		Ptr   *jsonOrText           `json:"ptr"`
		List  []jsonOrText          `json:"list"`
		Map   map[string]jsonOrText `json:"map"`
		Arr   [1]jsonOrText         `json:"arr"`
		Any   any                   `json:"any"`
	}
	h := holder{
		Field: jsonOrText{"field"},
		Ptr:   &jsonOrText{"ptr"},
		List:  []jsonOrText{{"list"}},
		Map:   map[string]jsonOrText{"k": {"map"}},
		Arr:   [1]jsonOrText{{"arr"}},
		Any:   jsonOrText{"any"},
	}
	// Through a pointer the struct is addressable: its field and array element take
	// MarshalJSON; the map value and the value in the interface are not addressable.
	for _, c := range []struct {
		name string
		v    any
		want string
	}{
		{"through a pointer", &h, `{"field":{"json":"field"},"ptr":{"json":"ptr"},"list":[{"json":"list"}],"map":{"k":"text:map"},"arr":[{"json":"arr"}],"any":"text:any"}`},
		{"by value", h, `{"field":"text:field","ptr":{"json":"ptr"},"list":[{"json":"list"}],"map":{"k":"text:map"},"arr":["text:arr"],"any":"text:any"}`},
	} {
		raw, err := json.Marshal(c.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(raw) != c.want {
			t.Fatalf("%s: encoding/json writes %s; the expectation here is stale: %s", c.name, raw, c.want)
		}
		assertEncodesLikeJSON(t, c.name, c.v)
	}
}
