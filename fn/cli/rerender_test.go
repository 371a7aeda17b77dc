package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/aggapi/aggapi/internal/testutil"
)

// TestRerenderChangesNothing runs every valid golden case twice, the second time over
// its own output, as a kustomize transformer or a kpt package does: the items must come
// back byte for byte (pod settings, names, groups, reused certificates).
func TestRerenderChangesNothing(t *testing.T) {
	dirs, _ := filepath.Glob("../../testdata/*")
	ran := 0
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "errors.txt")); err == nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "config.yaml")); err != nil {
			continue
		}
		ran++
		t.Run(filepath.Base(dir), func(t *testing.T) {
			first, stderr, code := runFunction(t, goldenInput(t, dir), goldenNow)
			if code != 0 {
				t.Fatalf("first render: exit %d: %s", code, stderr)
			}
			items := itemsOf(t, first)
			cfg, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			in := testutil.ResourceList(string(items), string(cfg))
			second, stderr, code := runFunction(t, []byte(in), goldenNow)
			if code != 0 {
				t.Fatalf("second render: exit %d: %s", code, stderr)
			}
			if again := itemsOf(t, second); !bytes.Equal(again, items) {
				t.Errorf("the second render changed the output:\n%s", lineDiff(string(items), string(again)))
			}
		})
	}
	if ran < 20 {
		t.Fatalf("only %d cases ran", ran)
	}
}
