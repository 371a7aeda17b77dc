package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/manifests"
)

// Options are the choices `aggapi import` leaves to its user.
type Options struct {
	// Name is the config's metadata.name; empty: chosen from the installation.
	Name string
	// Exec, when set, is the path kustomize runs the function from: the config gets the
	// config.kubernetes.io/function annotation that makes it a transformer.
	Exec string
	// Sources name the inputs in the config's header comment.
	Sources []string
}

// Result is an imported config and its report.
type Result struct {
	// Config is the AggregatedAPI as YAML.
	Config []byte
	// API is the config, defaulted and validated.
	API *config.AggregatedAPI
	// Report lists what the adoption changes.
	Report *Report
}

// Import turns the objects read from an installation into a config that reproduces it.
func Import(objs []*Object, opts Options) (*Result, error) {
	in, err := find(objs)
	if err != nil {
		return nil, err
	}
	name, err := chooseName(in, opts.Name)
	if err != nil {
		return nil, err
	}
	d, err := build(in, name)
	if err != nil {
		return nil, err
	}
	base, err := load(d.api, "")
	if err != nil {
		return nil, err
	}
	gen, err := generatedTemplate(base)
	if err != nil {
		return nil, fmt.Errorf("rendering the imported config: %w", err)
	}
	patch, err := d.podTemplate(in, gen)
	if err != nil {
		return nil, err
	}
	if patch != nil {
		raw, err := json.Marshal(patch)
		if err != nil {
			return nil, err
		}
		d.api.Spec.Server.PodTemplate = &runtime.RawExtension{Raw: raw}
	}
	doc, err := encode(d.api, opts)
	if err != nil {
		return nil, err
	}
	api, err := load(nil, string(doc))
	if err != nil {
		return nil, fmt.Errorf("the imported config does not load (%w); its text:\n%s", err, doc)
	}
	objects, err := manifests.Build(api, manifests.Material{
		CABundle: []byte("the render's CA"),
		Secret:   &manifests.SecretPEM{CertPEM: []byte("-"), KeyPEM: []byte("-"), CAPEM: []byte("-")},
	})
	if err != nil {
		return nil, fmt.Errorf("rendering the imported config: %w", err)
	}
	// The render's own warnings about the imported config (broad extraRules, host
	// networking) are the report's too.
	for _, w := range api.Warnings() {
		d.note("", w.Field, "the render warns: "+w.Message)
	}
	r := &Report{Config: name, DroppedArgs: d.dropped, Notes: d.notes}
	if err := r.compare(in, objects, api.Spec.Namespace); err != nil {
		return nil, err
	}
	return &Result{Config: doc, API: api, Report: r}, nil
}

// load runs a config through the function's own pipeline (schema, strict decode,
// defaults, validation): what the import writes must load.
func load(api *config.AggregatedAPI, doc string) (*config.AggregatedAPI, error) {
	var loaded *config.AggregatedAPI
	var errs field.ErrorList
	if api != nil {
		raw, err := json.Marshal(api)
		if err != nil {
			return nil, err
		}
		loaded, errs = config.LoadJSON(raw)
	} else {
		loaded, errs = config.Load([]byte(doc))
	}
	if len(errs) > 0 {
		var msgs []string
		for _, e := range errs {
			msgs = append(msgs, e.Error())
		}
		return nil, fmt.Errorf("the imported config is not valid: %s", strings.Join(msgs, "; "))
	}
	return loaded, nil
}

// encode writes the config as YAML in the schema's order (the Go type's field order),
// with only the fields that are set.
func encode(api *config.AggregatedAPI, opts Options) ([]byte, error) {
	a := *api
	a.Annotations = map[string]string{"config.kubernetes.io/local-config": "true"}
	if opts.Exec != "" {
		a.Annotations["config.kubernetes.io/function"] = "exec:\n  path: " + opts.Exec + "\n"
	}
	raw, err := json.Marshal(&a)
	if err != nil {
		return nil, err
	}
	node, err := yaml.Parse(string(raw))
	if err != nil {
		return nil, err
	}
	// metadata.creationTimestamp: null is what metav1.ObjectMeta marshals to.
	if err := node.PipeE(yaml.Lookup("metadata"), yaml.Clear("creationTimestamp")); err != nil {
		return nil, err
	}
	// The spec's struct fields that are not pointers marshal as {} when unset.
	spec := node.Field("spec").Value
	for _, k := range []string{"serviceAccount", "service", "certificate"} {
		if f := spec.Field(k); f != nil && len(f.Value.YNode().Content) == 0 {
			if _, err := spec.Pipe(yaml.Clear(k)); err != nil {
				return nil, err
			}
		}
	}
	tidy(node.YNode())
	blockStyle(node.YNode())
	var b bytes.Buffer
	b.WriteString("# Imported by `aggapi import`")
	if len(opts.Sources) > 0 {
		b.WriteString(" from " + strings.Join(opts.Sources, ", "))
	}
	b.WriteString(".\n# Its report lists what adopting the installation changes; docs/cli.md says how to apply it.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(node.YNode()); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// tidy puts apiVersion before kind and name first in list items.
func tidy(n *yaml.Node) {
	if n.Kind == yaml.SequenceNode {
		for _, c := range n.Content {
			tidy(c)
			if c.Kind == yaml.MappingNode {
				for i := 2; i < len(c.Content); i += 2 {
					if c.Content[i].Value == "name" {
						kv := []*yaml.Node{c.Content[i], c.Content[i+1]}
						c.Content = append(kv, append(c.Content[:i:i], c.Content[i+2:]...)...)
						break
					}
				}
			}
		}
		return
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 1; i < len(n.Content); i += 2 {
		tidy(n.Content[i])
	}
	kept := n.Content
	if len(kept) >= 4 && kept[0].Value == "kind" && kept[2].Value == "apiVersion" {
		kept[0], kept[1], kept[2], kept[3] = kept[2], kept[3], kept[0], kept[1]
	}
}

// blockStyle turns the flow style of parsed JSON into block style, quoting only the
// strings YAML would read as something else (kubectl reads YAML 1.1: y, on, no...).
func blockStyle(n *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		n.Style = 0
		for _, c := range n.Content {
			blockStyle(c)
		}
	case yaml.ScalarNode:
		n.Style = 0
		if n.Tag == yaml.NodeTagString && (yaml11Special(n.Value) || strings.Contains(n.Value, "\n")) {
			n.Style = yaml.DoubleQuotedStyle
			if strings.Contains(n.Value, "\n") {
				n.Style = yaml.LiteralStyle
			}
		}
	}
}

// yaml11Special: the plain scalars YAML 1.1 reads as booleans or sexagesimal numbers.
func yaml11Special(s string) bool {
	switch strings.ToLower(s) {
	case "y", "yes", "n", "no", "on", "off", "true", "false", "null", "~", "":
		return true
	}
	return strings.Contains(s, ":") && strings.Trim(s, "0123456789:._") == ""
}
