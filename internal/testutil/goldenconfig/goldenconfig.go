package goldenconfig

import (
	"path/filepath"
	"testing"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/internal/testutil"
)

// Case is a testdata/<case>/config.yaml that config.Load accepts.
type Case struct {
	Path string // the config.yaml, for messages
	API  *config.AggregatedAPI
}

// Valid loads every testdata/*/config.yaml of the repository and returns the ones
// config.Load accepts (the error cases are left out), in path order. Finding none fails
// the test, so a test over them cannot pass by checking nothing.
func Valid(tb testing.TB) []Case {
	tb.Helper()
	dir := filepath.Join(testutil.Root(tb), "testdata")
	paths, err := filepath.Glob(filepath.Join(dir, "*", "config.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []Case
	for _, p := range paths {
		if api, errs := config.Load(testutil.ReadFile(tb, p)); len(errs) == 0 {
			out = append(out, Case{Path: p, API: api})
		}
	}
	if len(out) == 0 {
		tb.Fatalf("no valid config under %s", dir)
	}
	return out
}
