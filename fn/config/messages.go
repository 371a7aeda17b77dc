package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/aggapi/aggapi/fn/config/internal/schemacheck"
)

// The schema checker reports what kube-openapi reports (its tests hold it to that);
// this file turns those reports, and the strict decoder's, into messages that say
// where, what was given and what would do, and keeps every message short.

const (
	// maxShownBytes caps a value echoed in a message.
	maxShownBytes = 256
	// maxErrors caps the errors reported for one config; the rest are counted.
	maxErrors = 100
)

// capString shortens s to at most n bytes (on a rune boundary) and says how long it was.
func capString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", s[:cut], len(s))
}

// capValue returns a value that prints short: long strings are cut, and lists and
// mappings print as capped JSON.
func capValue(v any) any {
	switch t := v.(type) {
	case nil, bool, int, int32, int64, float32, float64, field.OmitValueType:
		return v
	case string:
		return capString(t, maxShownBytes)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return capString(fmt.Sprintf("%v", v), maxShownBytes)
	}
	if len(b) <= maxShownBytes {
		return v
	}
	return capString(string(b), maxShownBytes)
}

// capErrors keeps at most maxErrors errors, each with its value, path and detail capped.
func capErrors(errs field.ErrorList) field.ErrorList {
	if len(errs) == 0 {
		return errs
	}
	out := make(field.ErrorList, 0, min(len(errs), maxErrors+1))
	for i, e := range errs {
		if i == maxErrors {
			out = append(out, problem(nil, fmt.Sprintf("and %d more errors", len(errs)-maxErrors)))
			break
		}
		c := *e
		c.BadValue = capValue(c.BadValue)
		c.Field = capString(c.Field, maxShownBytes)
		c.Detail = capString(c.Detail, 4*maxShownBytes)
		out = append(out, &c)
	}
	return out
}

var (
	integerRange = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(Checked|Minimum boundary|Maximum boundary) value must be of type integer.* in (\S+)$`)
	})
	typeMismatch = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^must be of type (\w+): "\w*"$`) })
)

// explainSchema rewrites the schema checker's errors for people: a type error shows the
// value given and says what is wanted, an integer that does not fit is reported at its
// own path once, and a duration that does not parse gets an example.
func explainSchema(errs field.ErrorList, doc map[string]any) field.ErrorList {
	out := make(field.ErrorList, 0, len(errs))
	reported := map[string]bool{}
	add := func(e *field.Error) {
		key := e.Field + "\x00" + e.Detail
		if !reported[key] {
			reported[key] = true
			out = append(out, e)
		}
	}
	for _, e := range errs {
		if m := integerRange().FindStringSubmatch(e.Detail); m != nil && (e.Field == "" || e.Field == "[]") {
			if m[1] != "Checked" {
				add(e) // a schema bound out of range: our bug, keep kube-openapi's words
				continue
			}
			v, _ := valueAt(doc, m[2])
			if f, ok := v.(float64); ok && schemacheck.IsJSONInteger(f) {
				// Whole but too large for the format: the range check at the path says more.
				continue
			}
			add(field.Invalid(schemacheck.PathFrom(m[2]), v, "must be an integer"))
			continue
		}
		if m := typeMismatch().FindStringSubmatch(e.Detail); m != nil {
			v, _ := valueAt(doc, e.Field)
			add(field.Invalid(schemacheck.PathFrom(e.Field), v, "must be "+typeName(m[1])))
			continue
		}
		if p := durationPattern(); p != "" && e.Detail == "should match '"+p+"'" {
			s, _ := e.BadValue.(string)
			add(field.Invalid(schemacheck.PathFrom(e.Field), e.BadValue, durationHint(e.Field, s)))
			continue
		}
		add(e)
	}
	return out
}

// typeName says a JSON schema type the way the docs do.
func typeName(t string) string {
	switch t {
	case "integer", "int32", "int64":
		return "an integer"
	case "number", "float64":
		return "a number"
	case "string":
		return "a string"
	case "boolean":
		return "true or false"
	case "array":
		return "a list"
	case "object":
		return "a mapping"
	}
	return "of type " + t
}

// durationExamples are the defaults of the duration fields, the best example of each.
var durationExamples = map[string]string{
	"validity":      "8760h",
	"renewBefore":   "720h",
	"overlap":       "24h",
	"caDuration":    "87600h",
	"shutdownDelay": "5s",
}

// durationPattern is the schema's pattern for durations (the schema owns it).
var durationPattern = sync.OnceValue(func() string {
	root, err := crdSchema()
	if err != nil {
		return ""
	}
	return root.Properties["spec"].Properties["certificate"].Properties["validity"].Pattern
})

var durationForm = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(durationPattern()) })

var daysOrYears = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]+)(d|y)$`) })

// durationHint says how to write a duration, and what a value in days or years is in hours.
func durationHint(path, given string) string {
	name := path[strings.LastIndexAny(path, ".")+1:]
	example := durationExamples[name]
	if example == "" {
		example = "720h"
	}
	if durationPattern() != "" && durationForm().MatchString(given) {
		// Well formed, so it failed on size: time.Duration holds about 290 years.
		return "must be a duration of at most 2562047h"
	}
	hint := "must be a duration; use h, m, s: " + example
	if m := daysOrYears().FindStringSubmatch(given); m != nil {
		var n int
		if _, err := fmt.Sscan(m[1], &n); err == nil && n > 0 && n <= 100*366 {
			hours := n * 24
			if m[2] == "y" {
				hours = n * 8760
			}
			hint += fmt.Sprintf(" (there are no days or years: %s is %dh)", given, hours)
		}
	}
	return hint
}

// valueAt finds the value at a path such as spec.versions[0].name in a decoded document.
func valueAt(doc any, path string) (any, bool) {
	for _, seg := range schemacheck.Segments(path) {
		switch s := seg.(type) {
		case string:
			m, ok := doc.(map[string]any)
			if !ok {
				return nil, false
			}
			if doc, ok = m[s]; !ok {
				return nil, false
			}
		case int:
			l, ok := doc.([]any)
			if !ok || s >= len(l) {
				return nil, false
			}
			doc = l[s]
		}
	}
	return doc, true
}

// fieldPaths are the paths of every field of the config ("spec.versions[].name"),
// found from the Go type, which also knows metadata's fields.
var fieldPaths = sync.OnceValue(func() []string {
	var out []string
	var walk func(t reflect.Type, prefix string, seen []reflect.Type)
	walk = func(t reflect.Type, prefix string, seen []reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			if t.Kind() == reflect.Slice {
				prefix += "[]"
			}
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || slices.Contains(seen, t) || len(seen) > 8 {
			return
		}
		seen = append(seen, t)
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" && (f.Anonymous || strings.Contains(opts, "inline")) {
				walk(f.Type, prefix, seen)
				continue
			}
			if name == "" {
				name = f.Name
			}
			p := name
			if prefix != "" {
				p = prefix + "." + name
			}
			out = append(out, p)
			walk(f.Type, p, seen)
		}
	}
	walk(reflect.TypeFor[AggregatedAPI](), "", nil)
	return out
})

var listIndex = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\[\d+\]`) })

// suggestField names the known field an unknown one was probably meant to be: a field
// of the same parent with a similar name, or a field of that name (or a similar one)
// under another parent, such as spec.server.replicas for spec.replicas.
func suggestField(unknown string) string {
	generic := listIndex().ReplaceAllString(unknown, "[]")
	parent, name := "", generic
	if i := strings.LastIndex(generic, "."); i >= 0 {
		parent, name = generic[:i], generic[i+1:]
	}
	best, bestScore := "", 1<<30
	for _, p := range fieldPaths() {
		pp, pn := "", p
		if i := strings.LastIndex(p, "."); i >= 0 {
			pp, pn = p[:i], p[i+1:]
		}
		d := editDistance(strings.ToLower(name), strings.ToLower(pn))
		if d > max(1, len(name)/3) {
			continue
		}
		score := d * 4
		if pp != parent {
			// Another parent: only worth saying for a close name, and a near parent wins.
			score += 2 + strings.Count(p, ".")
		}
		if score < bestScore {
			best, bestScore = p, score
		}
	}
	if best == "" || best == generic {
		return ""
	}
	// Show list indexes as the user wrote them where the suggestion shares the prefix.
	if strings.HasPrefix(best, parent+".") {
		return listIndexPrefix(unknown) + best[len(parent):]
	}
	return best
}

// listIndexPrefix is the parent part of an unknown field's path, with its indexes.
func listIndexPrefix(unknown string) string {
	if i := strings.LastIndex(unknown, "."); i >= 0 {
		return unknown[:i]
	}
	return ""
}

// editDistance is the optimal string alignment distance of two short strings: the
// Levenshtein distance with a swap of neighbours ("nmae") counted as one edit.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
