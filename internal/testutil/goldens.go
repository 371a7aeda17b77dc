package testutil

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aggapi/aggapi/fn/config"
)

// GoldenConfig is a testdata/<case>/config.yaml that config.Load accepts.
type GoldenConfig struct {
	Path string // the config.yaml, for messages
	API  *config.AggregatedAPI
}

// ValidGoldenConfigs loads every testdata/*/config.yaml of the repository and returns
// the ones config.Load accepts (the error cases are left out), in path order. Finding
// none fails the test, so a test over them cannot pass by checking nothing.
func ValidGoldenConfigs(tb testing.TB) []GoldenConfig {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(Root(tb), "testdata", "*", "config.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []GoldenConfig
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		if api, errs := config.Load(b); len(errs) == 0 {
			out = append(out, GoldenConfig{Path: p, API: api})
		}
	}
	if len(out) == 0 {
		tb.Fatalf("no valid config under %s", filepath.Join(Root(tb), "testdata"))
	}
	return out
}
