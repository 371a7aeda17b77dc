package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aggapi/aggapi/internal/testutil"
)

// denseItem is a ConfigMap holding a flow list of n small integers: two bytes a
// YAML node, each ~170 bytes once parsed.
func denseItem(n int) string {
	return "{apiVersion: v1, kind: ConfigMap, metadata: {name: dense}, data: {x: [" + strings.Repeat("1,", n) + "1]}}"
}

// TestFunctionRefusesDenseInput: an input whose nodes need more than 40 times its size
// plus 128 MiB is refused before it is parsed (it rendered, taking ~90 times its size:
// a 14 MB input took 1.3 GB), naming the line and the limit, with nothing on stdout.
func TestFunctionRefusesDenseInput(t *testing.T) {
	in := testutil.ResourceList("- "+denseItem(3_000_000)+"\n", testutil.MinimalConfig("wardle"))
	var stdout, stderr bytes.Buffer
	if code := Function(strings.NewReader(in), &stdout, &stderr); code != 1 || stdout.Len() > 0 {
		t.Fatalf("exit %d, %d bytes on stdout, stderr:\n%.500s", code, stdout.Len(), stderr.String())
	}
	if msg := stderr.String(); !strings.Contains(msg, "line 4 alone holds about 6000") || !strings.Contains(msg, "more than the limit of 40 times its size plus 128 MiB") {
		t.Fatalf("stderr:\n%s", msg)
	}
}

// TestVerifyRefusesDenseDocument: verify refuses a document whose nodes need more than
// 40 times its size plus 128 MiB, before parsing it, naming the file and the line
// (a 14 MB flow list took 1.8 GB, 20 MB ran out of memory); --config too. Many small
// documents of the same size are read, one at a time.
func TestVerifyRefusesDenseDocument(t *testing.T) {
	dir := t.TempDir()
	dense := filepath.Join(dir, "dense.yaml")
	if err := os.WriteFile(dense, []byte("a: 1\n---\n"+denseItem(3_000_000)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(config, []byte(testutil.MinimalConfig("wardle")+"  x: ["+strings.Repeat("1,", 3_000_000)+"1]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{dense}, {"--config", config, dense}} {
		var stdout, stderr bytes.Buffer
		code := Verify(args, strings.NewReader(""), &stdout, &stderr)
		var want string
		if args[0] == "--config" {
			want = "--config: reading " + config + ": the YAML document at line 1 "
		} else {
			want = "reading " + dense + ": the YAML document at line 2 (6000079 bytes) holds up to 6000027 YAML nodes (line 3 alone"
		}
		if code != 1 || !strings.Contains(stderr.String(), want) || !strings.Contains(stderr.String(), "more than the limit of 40 times its size plus 128 MiB") {
			t.Fatalf("verify %s: exit %d, want %q in stderr:\n%.600s", args, code, want, stderr.String())
		}
	}
	many := filepath.Join(dir, "many.yaml")
	if err := os.WriteFile(many, bytes.Repeat([]byte("---\n"+denseItem(2_000)+"\n"), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := Verify([]string{many}, nil, &stdout, &stderr); code != 1 || stderr.Len() > 0 || !strings.Contains(stdout.String(), "no APIService found") {
		t.Fatalf("1,000 documents of 4 KB: exit %d\n%s%.600s", code, stdout.String(), stderr.String())
	}
}
