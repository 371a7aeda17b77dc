package config

import (
	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/aggapi/aggapi/fn/config/internal/yamljson"
)

// Limits on the function config, checked while it is read and before anything else
// looks at it. A real config is a few KB with a few hundred values; these leave
// room for long caBundles and many annotations, and refuse what would make the
// function slow or large.
const (
	// MaxConfigBytes bounds the text of a config's keys and values (a 64 KiB caBundle fits
	// sixteen times over); aliases count each time they are used.
	MaxConfigBytes = 1 << 20
	// MaxConfigValues bounds the number of keys, values and list items.
	MaxConfigValues = 50_000
	// MaxConfigDepth bounds the nesting of mappings and lists.
	MaxConfigDepth = 64
	// maxDocumentBytes bounds a config document handed to Load as text, before it is
	// parsed: comments and indentation may make it larger than MaxConfigBytes.
	maxDocumentBytes = 4 * MaxConfigBytes
)

// TooLarge reports whether errs refuse a config for its size: a caller should then not
// echo the config back (writing a 150,000-key mapping costs half a GB).
func TooLarge(errs field.ErrorList) bool {
	for _, e := range errs {
		if e.Origin == yamljson.TooLargeOrigin {
			return true
		}
	}
	return false
}

// LoadNode is Load for a config already parsed into a YAML node, such as the
// functionConfig of a ResourceList.
func LoadNode(n *yaml.Node) (*AggregatedAPI, field.ErrorList) {
	raw, errs := nodeJSON(n)
	if len(errs) > 0 {
		return nil, errs
	}
	return LoadJSON(raw)
}

// configLimits are the limits above, for the reader.
var configLimits = yamljson.Limits{Bytes: MaxConfigBytes, Values: MaxConfigValues, Depth: MaxConfigDepth}

// nodeJSON is n as JSON, read within the limits above.
func nodeJSON(n *yaml.Node) ([]byte, field.ErrorList) { return yamljson.Encode(n, configLimits) }

// problem is an error at p (or about the whole config, for a nil p) with no value to show.
func problem(p *field.Path, detail string) *field.Error { return yamljson.Problem(p, detail) }
