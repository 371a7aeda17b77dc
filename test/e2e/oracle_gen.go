//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/aggapi/aggapi/config/crd"
)

// The oracle's config generator (TestAPIServerAcceptsGeneratedRenders). It walks the
// AggregatedAPI CRD schema (config/crd, the one the function embeds): every property
// the schema has is a candidate, enums, minimum/maximum, maxLength, maxItems and
// maxProperties come from the schema, and required properties are always set. Where
// a field's meaning matters (a group is a DNS subdomain, a quantity is a quantity) a
// hint for its path supplies realistic values and the edges users hit; a field
// without a hint gets a value from its schema alone, so a field added to the CRD is
// generated without touching this file (TestOracleGeneratorFollowsSchema notices it).
//
// The configs are valid by the schema and, apart from the edges below, by the rules
// a user reads in the README; the edges are what a careless user writes and what
// Kubernetes refuses (requests above limits, annotations near and over 256 KiB, a
// privileged sidecar, an image removed by the pod template, NetworkPolicy peers that
// do not hold together, ...): the function must refuse those itself. Pod templates are
// otherwise valid Kubernetes: the function cannot hold them to every rule of
// k8s.io/kubernetes, and random pod specs would only test that it does not.

// oracleConfig is one generated config.
type oracleConfig struct {
	Index int
	// Doc is the AggregatedAPI as JSON-like values.
	Doc map[string]any
	// Features are the notable choices made, to tell what a refusal came from.
	Features []string
}

// JSON is the config as JSON (which is YAML too).
func (c oracleConfig) JSON() []byte {
	b, err := json.Marshal(c.Doc)
	if err != nil {
		panic(err) // only maps, slices, strings, numbers and bools
	}
	return b
}

// schemaNode is the part of an OpenAPI v3 schema the generator reads.
type schemaNode struct {
	Type                 string                 `json:"type"`
	Enum                 []any                  `json:"enum"`
	Properties           map[string]*schemaNode `json:"properties"`
	AdditionalProperties *schemaNode            `json:"additionalProperties"`
	Items                *schemaNode            `json:"items"`
	Required             []string               `json:"required"`
	MinItems             *int                   `json:"minItems"`
	MaxItems             *int                   `json:"maxItems"`
	MaxProperties        *int                   `json:"maxProperties"`
	MinLength            *int                   `json:"minLength"`
	MaxLength            *int                   `json:"maxLength"`
	Pattern              string                 `json:"pattern"`
	Minimum              *float64               `json:"minimum"`
	Maximum              *float64               `json:"maximum"`
	PreserveUnknown      bool                   `json:"x-kubernetes-preserve-unknown-fields"`
}

func loadCRDSchema() (*schemaNode, error) {
	var s schemaNode
	if err := json.Unmarshal(crd.AggregatedAPISchema, &s); err != nil {
		return nil, fmt.Errorf("decoding the embedded AggregatedAPI schema: %w", err)
	}
	return &s, nil
}

// schemaLeaves lists the paths of every leaf of the schema (".spec.server.image",
// ".spec.groups[].versions[].name", map values end in "{}"), for the coverage check.
func schemaLeaves(s *schemaNode, path string, out *[]string) {
	switch {
	case len(s.Properties) > 0:
		for _, k := range sortedKeys(s.Properties) {
			schemaLeaves(s.Properties[k], path+"."+k, out)
		}
	case s.Items != nil:
		schemaLeaves(s.Items, path+"[]", out)
	case s.AdditionalProperties != nil:
		schemaLeaves(s.AdditionalProperties, path+"{}", out)
	default:
		*out = append(*out, path)
	}
}

// omit is what a hint returns to leave a field out.
type omitted struct{}

var omit any = omitted{}

// generator makes one config; a fresh one per index, seeded with (seed, index), so
// config i is the same whatever the count.
type generator struct {
	r        *rand.Rand
	schema   *schemaNode
	features []string
	// The plan: choices that several fields depend on, made before the walk.
	name       string
	multiGroup bool
	mode       string
	validity   string
	policy     bool // networkPolicy.enabled
	groups     map[string]bool
	caPEM      string
	// namesService is spec.names.service, which spec.service.name must equal.
	namesService string
	// serverContainer is spec.server.containerName when the config sets one; the
	// podTemplate changes the server container under it.
	serverContainer string
}

type hint func(g *generator, s *schemaNode) any

// generateConfig makes config index of the seeded sequence. caPEM is a CA certificate
// for mode provided.
func generateConfig(schema *schemaNode, seed uint64, index int, caPEM string) oracleConfig {
	g := &generator{
		r:      rand.New(rand.NewPCG(seed, uint64(index))), //nolint:gosec // seeded on purpose: a failing case is reproduced from its seed
		schema: schema,
		groups: map[string]bool{},
		caPEM:  caPEM,
	}
	g.plan()
	doc := g.value("", schema).(map[string]any)
	return oracleConfig{Index: index, Doc: doc, Features: g.features}
}

func (g *generator) feature(f string) {
	if !slices.Contains(g.features, f) {
		g.features = append(g.features, f)
	}
}

func (g *generator) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](g *generator, xs ...T) T { return xs[g.r.IntN(len(xs))] }

// weighted picks from the schema's enum with the weights given by value (1 otherwise).
func (g *generator) weighted(enum []any, weights map[string]float64) string {
	total := 0.0
	w := make([]float64, len(enum))
	for i, e := range enum {
		w[i] = 1
		if x, ok := weights[fmt.Sprint(e)]; ok {
			w[i] = x
		}
		total += w[i]
	}
	x := g.r.Float64() * total
	for i, e := range enum {
		if x < w[i] {
			return fmt.Sprint(e)
		}
		x -= w[i]
	}
	return fmt.Sprint(enum[len(enum)-1])
}

func (g *generator) plan() {
	g.name = g.dnsName(40, true)
	if len(g.name) >= 36 {
		g.feature("long-name")
	}
	g.multiGroup = g.chance(0.35)
	mode := g.schema.Properties["spec"].Properties["certificate"].Properties["mode"]
	g.mode = g.weighted(mode.Enum, map[string]float64{"generate": 3})
	g.feature("mode-" + g.mode)
	g.policy = g.chance(0.35)
	g.validity = pick(g, "", "", "8760h", "2160h", "720h", "48h", "1h", "87600h", "4380h0m0s", "1440h")
}

// value generates a value for the schema node at path, or omit.
func (g *generator) value(path string, s *schemaNode) any {
	if h, ok := hintFor(path); ok {
		return h(g, s)
	}
	return g.generic(path, s)
}

// generic generates a value for the schema node at path from the schema alone (the
// properties of an object still get their hints).
func (g *generator) generic(path string, s *schemaNode) any {
	var v any
	switch {
	case len(s.Properties) > 0:
		obj := map[string]any{}
		for _, k := range sortedKeys(s.Properties) {
			p := path + "." + k
			if !slices.Contains(s.Required, k) && !g.chance(optional(p)) {
				continue
			}
			if x := g.value(p, s.Properties[k]); x != omit {
				obj[k] = x
			}
		}
		return obj
	case s.Type == "object" && s.AdditionalProperties != nil:
		n := g.count(0, s.MaxProperties, 3)
		m := map[string]any{}
		for i := range n {
			m[fmt.Sprintf("key-%d", i)] = g.value(path+"{}", s.AdditionalProperties)
		}
		v = m
	case s.Type == "array":
		n := g.count(minOf(s.MinItems), s.MaxItems, 3)
		var list []any
		for range n {
			if x := g.value(path+"[]", s.Items); x != omit {
				list = append(list, x)
			}
		}
		if len(list) == 0 {
			return omit
		}
		v = list
	case len(s.Enum) > 0:
		v = g.weighted(s.Enum, nil)
	case s.Type == "string":
		maxLen := 63
		if s.MaxLength != nil {
			maxLen = min(maxLen, *s.MaxLength)
		}
		v = g.dnsName(maxLen, false)
	case s.Type == "integer":
		v = g.integer(s, 0)
	case s.Type == "boolean":
		v = g.chance(0.5)
	case s.Type == "object":
		v = map[string]any{}
	default:
		panic(fmt.Sprintf("the generator does not know schema type %q at %s", s.Type, path))
	}
	return v
}

// optional is the probability that an optional property at path is set.
func optional(path string) float64 {
	switch path {
	case ".apiVersion", ".kind", ".spec.server", ".spec.certificate":
		return 1
	case ".metadata", ".spec.names", ".spec.networkPolicy", ".spec.group", ".spec.versions", ".spec.groups",
		".spec.namespace", ".spec.createNamespace", ".spec.certificate.mode", ".spec.certificate.validity",
		".spec.certificate.provided", ".spec.certificate.certManager":
		return 1 // their hints decide
	case ".spec.certificate.secretFile":
		return 0.15
	case ".spec.commonLabels", ".spec.commonAnnotations", ".spec.server.podTemplate", ".spec.server.resources":
		return 0.6
	}
	return 0.4
}

func minOf(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// count picks a length in [lo, max]: mostly small (up to typical), sometimes the
// schema's maximum.
func (g *generator) count(lo int, maxp *int, typical int) int {
	hi := typical
	if maxp != nil {
		if g.chance(0.03) {
			return *maxp
		}
		hi = min(hi, *maxp)
	}
	hi = max(hi, lo)
	return lo + g.r.IntN(hi-lo+1)
}

// integer picks within the schema's range, preferring a realistic value, then the edges.
func (g *generator) integer(s *schemaNode, realistic int64) int64 {
	lo, hi := int64(0), int64(1<<31-1)
	if s.Minimum != nil {
		lo = int64(*s.Minimum)
	}
	if s.Maximum != nil {
		hi = int64(*s.Maximum)
	}
	switch x := g.r.Float64(); {
	case x < 0.6 && realistic >= lo && realistic <= hi && realistic != 0:
		return realistic
	case x < 0.7:
		return lo
	case x < 0.8:
		return hi
	default:
		return lo + g.r.Int64N(hi-lo+1)
	}
}

func (g *generator) intAt(s *schemaNode, realistic ...int64) int64 {
	return g.integer(s, pick(g, realistic...))
}

var nameWords = []string{"wardle", "metrics", "custom", "external", "tenancy", "billing", "apiserver",
	"sample", "flunder", "prometheus", "adapter", "kcp", "policy", "audit", "backup", "gateway", "inventory",
	"payments", "search", "ingest", "catalog", "storage", "quota", "team-a", "edge", "v2", "shard0"}

// dnsName is a DNS-1123 label of at most maxLen characters, made of words; long asks
// for one near maxLen now and then.
func (g *generator) dnsName(maxLen int, long bool) string {
	n := 1 + g.r.IntN(2)
	var parts []string
	for range n {
		parts = append(parts, pick(g, nameWords...))
	}
	s := strings.Join(parts, "-")
	if long && g.chance(0.2) || g.chance(0.05) {
		for len(s) < maxLen {
			s += "-" + pick(g, nameWords...)
		}
	}
	if len(s) > maxLen {
		s = strings.TrimRight(s[:maxLen], "-")
	}
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		s = "a" + s[min(len(s), 1):]
	}
	return s
}

// subdomain is a DNS-1123 subdomain of at most maxLen characters.
func (g *generator) subdomain(maxLen int) string {
	s := g.dnsName(min(maxLen, 63), false)
	if g.chance(0.2) {
		s += "." + g.dnsName(20, false)
	}
	if g.chance(0.04) { // long: near the kind's limit
		for len(s)+1 < maxLen {
			s += "." + g.dnsName(min(63, maxLen-len(s)-1), true)
		}
		g.feature("long-object-name")
	}
	if len(s) > maxLen {
		s = strings.TrimRight(s[:maxLen], "-.")
	}
	return s
}
