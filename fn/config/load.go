package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation/field"
	sigsjson "sigs.k8s.io/json"

	"github.com/aggapi/aggapi/fn/config/internal/schemacheck"
)

const (
	// APIVersion is the apiVersion of the function config.
	APIVersion = "aggapi.dev/v1alpha1"
	// Kind is the kind of the function config.
	Kind = "AggregatedAPI"
)

// Load turns a function config document (YAML or JSON) into a defaulted, valid
// AggregatedAPI. It runs one pipeline: schema check, strict decode, Default, Validate,
// and returns every problem found, each with its field path.
func Load(doc []byte) (*AggregatedAPI, field.ErrorList) {
	if len(doc) > maxDocumentBytes {
		return nil, field.ErrorList{field.Invalid(field.NewPath(""), nil,
			fmt.Sprintf("the function config is %d bytes; at most %d are read", len(doc), maxDocumentBytes))}
	}
	var n yaml.Node
	if err := yaml.Unmarshal(doc, &n); err != nil {
		return nil, field.ErrorList{field.Invalid(field.NewPath(""), nil, fmt.Sprintf("not valid YAML: %v", err))}
	}
	return LoadNode(&n)
}

// LoadJSON is Load for a config already in JSON form.
func LoadJSON(raw []byte) (*AggregatedAPI, field.ErrorList) {
	return loadJSON(raw, schemaErrors)
}

// loadJSON is LoadJSON with the schema check passed in, so a test can run the pipeline
// with kube-openapi's validator for comparison.
func loadJSON(raw []byte, checkSchema func(map[string]any) field.ErrorList) (*AggregatedAPI, field.ErrorList) {
	var err error
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil || generic == nil {
		return nil, field.ErrorList{field.Invalid(field.NewPath(""), nil, "the function config must be a YAML mapping")}
	}
	if errs := checkTypeMeta(generic); len(errs) > 0 {
		return nil, capErrors(errs)
	}

	errs := explainSchema(checkSchema(generic), generic)
	if len(errs) > 0 {
		// Drop the values the schema rejected, so the strict decode below still reports
		// unknown fields and Validate still sees the rest of the config: every problem at once.
		for _, e := range errs {
			dropPath(generic, schemacheck.Segments(e.Field))
		}
		if raw, err = json.Marshal(generic); err != nil {
			return nil, append(errs, field.InternalError(field.NewPath(""), err))
		}
	}
	var api AggregatedAPI
	strictErrs, decodeErr := sigsjson.UnmarshalStrict(raw, &api)
	for _, e := range strictErrs {
		errs = append(errs, strictError(e))
	}
	if decodeErr != nil {
		// The schema catches type errors first; this is the safety net.
		return nil, capErrors(append(errs, field.Invalid(field.NewPath(""), nil, decodeErr.Error())))
	}
	api.Default()
	errs = mergeByField(errs, api.Validate())
	if len(errs) > 0 {
		return nil, capErrors(errs)
	}
	return &api, nil
}

// mergeByField appends the errors of b except those at or under a field a reports.
// The values the schema rejected (a) were dropped before decoding, so Validate (b) sees
// a default or nothing in their place and must not report on what the user did not
// write: a renewBefore the schema rejected comes back as the 720h default, and "must be
// less than validity" would name a value nobody gave; a group of the wrong type comes
// back empty, and "Required" would be wrong.
func mergeByField(a, b field.ErrorList) field.ErrorList {
	rejected := make([]string, 0, len(a))
	for _, e := range a {
		rejected = append(rejected, e.Field)
	}
	for _, e := range b {
		if !slices.ContainsFunc(rejected, func(r string) bool { return isAtOrUnder(e.Field, r) }) {
			a = append(a, e)
		}
	}
	return a
}

// isAtOrUnder reports whether path is field or one of its children: spec.server.port is
// under spec.server, spec.versions[0] under spec.versions, not spec.serverX.
func isAtOrUnder(path, field string) bool {
	if !strings.HasPrefix(path, field) {
		return false
	}
	rest := path[len(field):]
	return rest == "" || field == "" || rest[0] == '.' || rest[0] == '['
}

func checkTypeMeta(generic map[string]any) field.ErrorList {
	var errs field.ErrorList
	if v, _ := generic["apiVersion"].(string); v != APIVersion {
		errs = append(errs, field.Invalid(field.NewPath("apiVersion"), generic["apiVersion"], "must be "+APIVersion))
	}
	if v, _ := generic["kind"].(string); v != Kind {
		errs = append(errs, field.Invalid(field.NewPath("kind"), generic["kind"], "must be "+Kind))
	}
	return errs
}

// schemaErrors checks a decoded config against the embedded CRD's schema.
func schemaErrors(generic map[string]any) field.ErrorList {
	root, err := crdSchema()
	if err != nil {
		return field.ErrorList{field.InternalError(field.NewPath(""), err)}
	}
	errs := root.Validate(generic)
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
	return errs
}

// dropPath removes the value at path from a decoded JSON document (a list element
// becomes null, so the indexes of its siblings stay as reported).
func dropPath(doc any, path []any) {
	for i, seg := range path {
		last := i == len(path)-1
		switch v := seg.(type) {
		case string:
			m, ok := doc.(map[string]any)
			if !ok {
				return
			}
			if last {
				delete(m, v)
				return
			}
			doc = m[v]
		case int:
			l, ok := doc.([]any)
			if !ok || v >= len(l) {
				return
			}
			if last {
				l[v] = nil
				return
			}
			doc = l[v]
		}
	}
}

var unknownField = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^unknown field "(.*)"$`) })

func strictError(e error) *field.Error {
	if m := unknownField().FindStringSubmatch(e.Error()); m != nil {
		detail := "unknown field: not in the AggregatedAPI schema (config/crd)"
		if s := suggestField(m[1]); s != "" {
			detail = fmt.Sprintf("unknown field: did you mean %s?", s)
		}
		return field.Forbidden(schemacheck.PathFrom(m[1]), detail)
	}
	return field.Invalid(field.NewPath(""), nil, e.Error())
}

// Marshal renders the config (defaults applied) back as JSON, HTML characters
// unescaped. Nothing in the render uses it: FuzzLoad checks with it that every config
// Load accepts loads again.
func (a *AggregatedAPI) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(a)
	return buf.Bytes(), err
}
