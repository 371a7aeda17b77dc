package render

import (
	"fmt"
	"strconv"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/internal/redact"
	"github.com/aggapi/aggapi/fn/internal/yamlenc"
)

// Severity is a result's severity, as the KRM functions specification spells it.
type Severity string

// The severities of the KRM functions specification; an Error fails the render.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Result is one entry of the ResourceList's results: the fields of the KRM functions
// specification that aggapi fills. It is ours rather than kyaml's fn/framework.Result
// because importing fn/framework costs every run ~10M instructions of package init.
type Result struct {
	Message     string
	Severity    Severity
	ResourceRef *yaml.ResourceIdentifier
	// FieldPath is the path of the config field the result is about, if any.
	FieldPath string
	// File is the file the config was read from, when kpt or kustomize said so.
	File *File
}

// File is a result's file, as the KRM functions specification spells it.
type File struct {
	Path  string
	Index int
}

// Line is the result as one line of stderr: the file it is about, then the message.
func (r Result) Line() string {
	if r.File == nil || r.File.Path == "" {
		return r.Message
	}
	return r.File.Path + ": " + r.Message
}

// ResultsNode renders results as the ResourceList's results field, in the order and
// spelling of the KRM functions specification. It is where every result leaves the
// function, so it redacts private keys here (a value echoed in a message, a field path
// made of a key): the YAML encoder escapes what is unprintable.
func ResultsNode(results []Result) *yaml.RNode {
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq}
	for _, res := range results {
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap}
		addString(m, "message", redact.String(res.Message))
		addString(m, "severity", string(res.Severity))
		if ref := res.ResourceRef; ref != nil {
			r := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap}
			addString(r, "apiVersion", ref.APIVersion)
			addString(r, "kind", ref.Kind)
			addString(r, "name", ref.Name)
			addString(r, "namespace", ref.Namespace)
			m.Content = append(m.Content, yamlenc.StringNode("resourceRef"), r)
		}
		if res.FieldPath != "" {
			f := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap}
			addString(f, "path", redact.String(res.FieldPath))
			m.Content = append(m.Content, yamlenc.StringNode("field"), f)
		}
		if file := res.File; file != nil && file.Path != "" {
			f := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap}
			addString(f, "path", redact.String(file.Path))
			if file.Index != 0 {
				addInt(f, "index", file.Index)
			}
			m.Content = append(m.Content, yamlenc.StringNode("file"), f)
		}
		seq.Content = append(seq.Content, m)
	}
	return yaml.NewRNode(seq)
}

// addInt adds key: value to a mapping.
func addInt(m *yaml.Node, key string, value int) {
	m.Content = append(m.Content, yamlenc.StringNode(key), &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagInt, Value: strconv.Itoa(value)})
}

// addString adds key: value to a mapping unless value is empty (omitempty).
func addString(m *yaml.Node, key, value string) {
	if value != "" {
		m.Content = append(m.Content, yamlenc.StringNode(key), yamlenc.StringNode(value))
	}
}

// FailOnWarnings turns a render that warns into a failed one, for CI that asks so
// (why names how it asked): the warnings stay, an error result says why the render
// failed, and the items are the input, as after any error.
func FailOnWarnings(out Output, input []*yaml.RNode, why string) Output {
	if out.Failed {
		return out
	}
	n := 0
	var ref *yaml.ResourceIdentifier
	var file *File
	for _, r := range out.Results {
		if r.Severity == Warning {
			n++
			if ref == nil {
				ref, file = r.ResourceRef, r.File
			}
		}
	}
	if n == 0 {
		return out
	}
	out.Results = append(out.Results, Result{
		Severity:    Error,
		Message:     fmt.Sprintf("%s: the render has %d warning(s), which fail it; fix what they say, or unset it to let warnings pass", why, n),
		ResourceRef: ref,
		File:        file,
	})
	out.Items, out.Failed = input, true
	return out
}
