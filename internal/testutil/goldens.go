package testutil

import (
	"os"
	"path/filepath"
	"strings"
)

// GoldenStdin returns what a golden case under dir is given on stdin: its input.yaml,
// or its config.yaml as the functionConfig of a ResourceList whose items are its
// items.yaml (none when that is absent or blank). fn/cli's golden harness and
// resourcelist's fuzz seeds read the cases through it.
func GoldenStdin(dir string) ([]byte, error) {
	if b, err := os.ReadFile(filepath.Join(dir, "input.yaml")); err == nil {
		return b, nil
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil {
		return nil, err
	}
	items, _ := os.ReadFile(filepath.Join(dir, "items.yaml"))
	return []byte(ResourceList(string(items), string(cfg))), nil
}

// ResourceList wraps items (the text of a YAML list; blank for none) and a
// functionConfig in a ResourceList, each indented under its key.
func ResourceList(items, functionConfig string) string {
	var b strings.Builder
	b.WriteString("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n")
	if strings.TrimSpace(items) != "" {
		b.WriteString("items:\n" + Indent(items))
	} else {
		b.WriteString("items: []\n")
	}
	b.WriteString("functionConfig:\n" + Indent(functionConfig))
	return b.String()
}

// Indent indents every line of s that is not empty by two spaces.
func Indent(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" && l != "\n" {
			b.WriteString("  ")
		}
		b.WriteString(l)
	}
	return b.String()
}
