package verify

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// ReadManifests reads the objects of one path: "-" is stdin (multi-document YAML or a
// ResourceList), a directory is read recursively (*.yaml, *.yml), anything else is a
// file. Bare lists of objects are flattened and what is not an object is dropped, so
// the checks never trip on other YAML.
func ReadManifests(path string, stdin io.Reader) ([]*yaml.RNode, error) {
	var nodes []*yaml.RNode
	var err error
	switch info, statErr := os.Stat(path); {
	case path == "-":
		if nodes, err = (&kio.ByteReader{Reader: stdin, OmitReaderAnnotations: true}).Read(); err != nil {
			return nil, fmt.Errorf("reading stdin: %w", err)
		}
	case statErr != nil:
		return nil, statErr
	case info.IsDir():
		nodes, err = (&kio.LocalPackageReader{PackagePath: path, OmitReaderAnnotations: true, MatchFilesGlob: []string{"*.yaml", "*.yml"}}).Read()
	default:
		var b []byte
		if b, err = os.ReadFile(path); err == nil {
			nodes, err = (&kio.ByteReader{Reader: bytes.NewReader(b), OmitReaderAnnotations: true}).Read()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return objects(nodes), nil
}

func objects(nodes []*yaml.RNode) []*yaml.RNode {
	var out []*yaml.RNode
	for _, n := range nodes {
		switch n.YNode().Kind {
		case yaml.MappingNode:
			out = append(out, n)
		case yaml.SequenceNode:
			elems, _ := n.Elements()
			out = append(out, objects(elems)...)
		}
	}
	return out
}
