package yamlenc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/randfill"
	sigsyaml "sigs.k8s.io/yaml"
)

// fuzzObjects are the kinds FuzzEncode fills: what the function renders and the
// neighbours that reach the rest of the core, apps, rbac, policy, networking and
// apiregistration types (every volume source, probe, affinity term, ...).
var fuzzObjects = []func() any{
	func() any { return &corev1.Pod{} },
	func() any { return &corev1.Service{} },
	func() any { return &corev1.Secret{} },
	func() any { return &corev1.ConfigMap{} },
	func() any { return &corev1.Namespace{} },
	func() any { return &corev1.ServiceAccount{} },
	func() any { return &corev1.PersistentVolume{} },
	func() any { return &appsv1.Deployment{} },
	func() any { return &appsv1.StatefulSet{} },
	func() any { return &appsv1.DaemonSet{} },
	func() any { return &rbacv1.ClusterRole{} },
	func() any { return &rbacv1.ClusterRoleBinding{} },
	func() any { return &rbacv1.Role{} },
	func() any { return &rbacv1.RoleBinding{} },
	func() any { return &policyv1.PodDisruptionBudget{} },
	func() any { return &networkingv1.NetworkPolicy{} },
	func() any { return &networkingv1.Ingress{} },
	func() any { return &apiregistrationv1.APIService{} },
}

// filler fills objects from the fuzz bytes. Lists hold at most one element, as in
// apimachinery's round-trip fuzzers (more grows an object exponentially with its depth);
// string maps and lists, the leaves, hold up to four, so sorting and sequences are
// exercised. Types whose field-by-field fill would not be a value the API could hold (a
// Quantity's internals, raw JSON) get fill funcs that produce valid values.
func filler(data []byte) *randfill.Filler {
	return randfill.NewFromGoFuzz(data).NilChance(0.4).NumElements(0, 1).Funcs(
		func(m *map[string]string, c randfill.Continue) {
			n := c.Intn(5)
			if n == 0 && c.Bool() {
				return // nil
			}
			*m = make(map[string]string, n)
			for range n {
				(*m)[c.String(12)] = c.String(24)
			}
		},
		func(l *[]string, c randfill.Continue) {
			if n := c.Intn(5); n > 0 || c.Bool() {
				*l = make([]string, n)
				for i := range *l {
					(*l)[i] = c.String(24)
				}
			}
		},
		func(q *resource.Quantity, c randfill.Continue) {
			v := c.Int63n(1<<40) - 1<<39
			switch c.Intn(4) {
			case 0:
				*q = *resource.NewQuantity(v, resource.DecimalSI)
			case 1:
				*q = *resource.NewQuantity(v, resource.BinarySI)
			case 2:
				*q = *resource.NewMilliQuantity(v, resource.DecimalSI)
			default:
				*q = *resource.NewScaledQuantity(v, resource.Scale(c.Intn(19)-9))
			}
		},
		func(f *metav1.FieldsV1, c randfill.Continue) {
			f.Raw = fmt.Appendf(nil, `{"f:metadata":{"f:labels":{"f:%s":{}}},"f:n":%d}`, c.String(8), c.Int63())
		},
		func(r *runtime.RawExtension, c randfill.Continue) {
			r.Raw = fmt.Appendf(nil, `{"apiVersion":"v1","kind":%q,"n":%d}`, c.String(8), c.Int63())
		},
	)
}

// FuzzEncode fills a random object of a random kind and requires what Encode writes,
// read back as YAML, to be exactly what json.Marshal writes, compared as generic JSON
// values. The YAML is read twice: by go-yaml v3 (YAML 1.2, as kustomize and kpt read
// the function's output) and by sigs.k8s.io/yaml (YAML 1.1, as kubectl reads it).
func FuzzEncode(f *testing.F) {
	for i := range len(fuzzObjects) {
		f.Add([]byte{byte(i), 1, 2, 3, 4, 5, 6, 7, 8})
		f.Add(append([]byte{byte(i)}, bytes.Repeat([]byte{0xa5, 0x3c, 0x0f, 0xf0}, 64)...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		obj := fuzzObjects[int(data[0])%len(fuzzObjects)]()
		filler(data[1:]).Fill(obj)
		assertRoundTrips(t, obj)
	})
}

// assertRoundTrips requires Encode(obj), written as YAML and read back by both YAML
// readers, to equal json.Marshal(obj) as a generic JSON value.
func assertRoundTrips(t *testing.T, obj any) {
	t.Helper()
	raw, jsonErr := json.Marshal(obj)
	n, err := Encode(obj)
	if (err != nil) != (jsonErr != nil) {
		t.Fatalf("%T: Encode error %v, json.Marshal error %v", obj, err, jsonErr)
	}
	if jsonErr != nil {
		return
	}
	want := genericJSON(t, raw)
	text, err := yaml.NewRNode(n).String()
	if err != nil {
		t.Fatalf("%T: writing the YAML: %v", obj, err)
	}

	var v3 any
	if err := yaml.Unmarshal([]byte(text), &v3); err != nil {
		t.Fatalf("%T: go-yaml v3 cannot read the YAML: %v\n%s", obj, err, text)
	}
	v3JSON, err := json.Marshal(v3)
	if err != nil {
		t.Fatalf("%T: go-yaml v3 read a value JSON cannot hold: %v\n%s", obj, err, text)
	}
	if got := genericJSON(t, v3JSON); !reflect.DeepEqual(got, want) {
		t.Fatalf("%T: YAML 1.2 reader: Encode differs from json.Marshal\n got: %s\nwant: %s\nYAML:\n%s", obj, v3JSON, raw, text)
	}

	v2JSON, err := sigsyaml.YAMLToJSON([]byte(text))
	if err != nil {
		t.Fatalf("%T: sigs.k8s.io/yaml cannot read the YAML: %v\n%s", obj, err, text)
	}
	if got := genericJSON(t, v2JSON); !reflect.DeepEqual(got, want) {
		t.Fatalf("%T: YAML 1.1 reader: Encode differs from json.Marshal\n got: %s\nwant: %s\nYAML:\n%s", obj, v2JSON, raw, text)
	}
}

func genericJSON(t *testing.T, raw []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	return v
}

// TestFuzzFillerFills: the fuzz target's objects are filled deep enough to reach the
// types inside them, not left near zero (a fuzz target that fills nothing cannot fail).
func TestFuzzFillerFills(t *testing.T) {
	seed := append([]byte{0}, bytes.Repeat([]byte{0xa5, 0x3c, 0x0f, 0xf0}, 64)...)
	for _, mk := range fuzzObjects {
		obj := mk()
		filler(seed).Fill(obj)
		raw, err := json.Marshal(obj)
		if err != nil {
			t.Fatalf("%T: %v", obj, err)
		}
		if len(raw) < 500 {
			t.Errorf("%T filled to only %d bytes of JSON: %s", obj, len(raw), raw)
		}
		assertRoundTrips(t, obj)
	}
}
