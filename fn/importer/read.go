package importer

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/verify"
)

// Object is one manifest of the input and where it came from.
type Object struct {
	file      string // the file it was read from, "stdin" for -
	node      *yaml.RNode
	group     string // the API group of apiVersion ("" for the core group)
	kind      string
	name      string
	namespace string
}

// ref names the object as messages do: Kind namespace/name, or Kind name.
func (o *Object) ref() string {
	if o.namespace == "" {
		return o.kind + " " + o.name
	}
	return o.kind + " " + o.namespace + "/" + o.name
}

// where is the object's ref with its file, for errors.
func (o *Object) where() string { return o.file + ": " + o.ref() }

// decode decodes the object into a typed value (unknown fields are dropped: the
// importer reads what it maps and reports the rest).
func (o *Object) decode(into any) error {
	raw, err := o.node.MarshalJSON()
	if err != nil {
		return fmt.Errorf("%s: %w", o.where(), err)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("%s: %w", o.where(), err)
	}
	return nil
}

// generic is the object as JSON-shaped maps, for comparing and reporting.
func (o *Object) generic() map[string]any {
	raw, err := o.node.MarshalJSON()
	if err != nil {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

// Read reads the manifests of paths: "-" is stdin (multi-document YAML, a List or a
// ResourceList), a directory is read recursively (*.yaml, *.yml, in lexical order;
// symlinked directories are not entered), anything else is a file. It reads with
// verify's bounds: regular files only, at most maxBytes over everything (0: the
// default of verify), one document at a time.
func Read(paths []string, stdin io.Reader, maxBytes int64) ([]*Object, error) {
	r := &verify.Reader{MaxBytes: maxBytes}
	var all []*Object
	add := func(file string, nodes []*yaml.RNode) error {
		for _, n := range nodes {
			o, err := newObject(file, n)
			if err != nil {
				return err
			}
			all = append(all, o)
		}
		return nil
	}
	for _, p := range paths {
		if p == "-" {
			nodes, err := r.Read("-", stdin)
			if err != nil {
				return nil, err
			}
			if err := add("stdin", nodes); err != nil {
				return nil, err
			}
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			nodes, err := r.Read(p, nil)
			if err != nil {
				return nil, err
			}
			if err := add(p, nodes); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(p+string(filepath.Separator), func(f string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !isYAML(d.Name()) {
				return nil
			}
			nodes, err := r.Read(f, nil)
			if err != nil {
				return err
			}
			return add(filepath.Clean(f), nodes)
		})
		if err != nil {
			return nil, err
		}
	}
	return all, nil
}

func isYAML(name string) bool {
	ext := filepath.Ext(name)
	return ext == ".yaml" || ext == ".yml"
}

func newObject(file string, n *yaml.RNode) (*Object, error) {
	m, err := n.GetMeta()
	if err != nil {
		return nil, fmt.Errorf("%s: reading metadata: %w", file, err)
	}
	if m.Kind == "" || m.APIVersion == "" {
		return nil, fmt.Errorf("%s: an object without apiVersion and kind (metadata.name %q)", file, m.Name)
	}
	group, _, _ := strings.Cut(m.APIVersion, "/")
	if !strings.Contains(m.APIVersion, "/") {
		group = ""
	}
	ns := m.Namespace
	if !namespaced(m.Kind) {
		ns = "" // a namespace on a cluster-scoped object is ignored by the API server
	}
	return &Object{file: file, node: n, group: group, kind: m.Kind, name: m.Name, namespace: ns}, nil
}
