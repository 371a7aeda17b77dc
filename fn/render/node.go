package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/manifests"
)

// keyRank puts the fields a reader looks for first at the top of every mapping; the
// rest follow in alphabetical order, so the output is the same bytes on every run.
var keyRank = map[string]int{"apiVersion": 1, "kind": 2, "metadata": 3, "name": 4, "namespace": 5}

// Warm fills encoding/json's per-type caches for the objects a render emits (a few ms
// on the first Deployment of a process), for a caller with a spare core.
func Warm() {
	defer func() { _ = recover() }() // a warm-up is an optimisation, never a failure
	api := &config.AggregatedAPI{}
	api.Name = "warm"
	api.Spec.Versions = []config.Version{{Name: "v1"}}
	api.Default()
	for _, obj := range manifests.Build(api, manifests.Material{Secret: &manifests.SecretPEM{}}) {
		_, _ = json.Marshal(obj)
	}
}

// toRNode converts a typed object into a block-style YAML node, dropping the empty
// status and creationTimestamp that typed structs carry.
//
// It goes through encoding/json rather than apimachinery's unstructured converter:
// the converter's reflection caches cost ~25 ms on the first Deployment of a process,
// which is most of a render.
func toRNode(obj runtime.Object) (*yaml.RNode, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", obj, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep 65532 an integer, not 65532.0
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decoding %T: %w", obj, err)
	}
	delete(m, "status")
	if spec, ok := m["spec"].(map[string]any); ok && len(spec) == 0 {
		delete(m, "spec") // a Namespace's
	}
	dropNullTimestamps(m)
	return yaml.NewRNode(toNode(m)), nil
}

func dropNullTimestamps(m map[string]any) {
	for k, v := range m {
		switch vv := v.(type) {
		case nil:
			if k == "creationTimestamp" {
				delete(m, k)
			}
		case map[string]any:
			dropNullTimestamps(vv)
		case []any:
			for _, e := range vv {
				if em, ok := e.(map[string]any); ok {
					dropNullTimestamps(em)
				}
			}
		}
	}
}

func toNode(v any) *yaml.Node {
	switch vv := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap}
		keys := slices.SortedFunc(maps.Keys(vv), func(a, b string) int {
			ra, rb := keyRank[a], keyRank[b]
			switch {
			case ra != 0 && rb != 0:
				return ra - rb
			case ra != 0:
				return -1
			case rb != 0:
				return 1
			case a < b:
				return -1
			case a > b:
				return 1
			}
			return 0
		})
		for _, k := range keys {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: k}, toNode(vv[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq}
		for _, e := range vv {
			n.Content = append(n.Content, toNode(e))
		}
		return n
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: vv}
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagBool, Value: strconv.FormatBool(vv)}
	case json.Number:
		if strings.ContainsAny(vv.String(), ".eE") {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagFloat, Value: vv.String()}
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagInt, Value: vv.String()}
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagNull, Value: "null"}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: fmt.Sprint(v)}
}
