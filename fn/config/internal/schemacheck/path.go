package schemacheck

import (
	"regexp"
	"strconv"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Compiled on first use: only error paths need them, and every run pays for package init.
var indexSuffix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(.*)\[(\d+)\]$`) })

// Segments splits "spec.versions[0].name" into "spec", "versions", 0, "name".
func Segments(s string) []any {
	var out []any
	for _, part := range strings.Split(s, ".") {
		var idx []any
		for {
			m := indexSuffix().FindStringSubmatch(part)
			if m == nil {
				break
			}
			n, _ := strconv.Atoi(m[2])
			idx = append([]any{n}, idx...)
			part = m[1]
		}
		out = append(out, part)
		out = append(out, idx...)
	}
	return out
}

// PathFrom parses "spec.versions[0].name" into a field.Path.
func PathFrom(s string) *field.Path {
	var p *field.Path
	for _, seg := range Segments(s) {
		switch v := seg.(type) {
		case int:
			p = p.Index(v)
		case string:
			if p == nil {
				p = field.NewPath(v)
			} else {
				p = p.Child(v)
			}
		}
	}
	return p
}
