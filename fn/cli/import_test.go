package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aggapi/aggapi/internal/testutil"
)

// TestImportThenRender: the config `aggapi import` writes for upstream's metrics-server
// renders through the function, and the render passes verify; the report goes to
// stderr, or to --report as JSON, and stdout holds the config alone.
func TestImportThenRender(t *testing.T) {
	input := filepath.Join(testutil.Root(t), "fn", "importer", "testdata", "metrics-server-v0.8.0", "input.yaml")
	code, config, stderr := run([]string{"import", input}, "")
	if code != 0 {
		t.Fatalf("aggapi import: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "insecureSkipTLSVerify") || strings.Contains(config, "insecureSkipTLSVerify") {
		t.Errorf("the report on stderr should name insecureSkipTLSVerify and the config should not:\nstderr %s\nconfig %s", stderr, config)
	}
	code, rendered, stderr := run(nil, testutil.ResourceList("", config))
	if code != 0 {
		t.Fatalf("rendering the imported config: exit %d\n%s", code, stderr)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "rendered.yaml")
	testutil.WriteFile(t, out, []byte(rendered))
	if code, stdout, stderr := run([]string{"verify", out}, ""); code != 0 {
		t.Fatalf("verify of the imported render: exit %d\n%s%s", code, stdout, stderr)
	}

	report := filepath.Join(dir, "report.json")
	code, config2, stderr := run([]string{"import", "-o", "json", "--report", report, input}, "")
	if code != 0 || stderr != "" || config2 != config {
		t.Fatalf("aggapi import --report: exit %d, stderr %q, config the same: %v", code, stderr, config2 == config)
	}
	var r struct {
		Config      string            `json:"config"`
		DroppedArgs []string          `json:"droppedArgs"`
		Notes       []json.RawMessage `json:"notes"`
		Added       []string          `json:"added"`
		Changed     []json.RawMessage `json:"changed"`
		NotRendered []json.RawMessage `json:"notRendered"`
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &r); err != nil || r.Config != "metrics-server" || len(r.DroppedArgs) != 1 || r.NotRendered == nil {
		t.Errorf("report %s: %v; want config metrics-server, one dropped arg, every list present", data, err)
	}
}

// TestImportRefuses: an input that is not an installation is exit 1 with nothing on
// stdout and the reason on stderr; bad usage is exit 2.
func TestImportRefuses(t *testing.T) {
	dir := t.TempDir()
	notAnInstallation := filepath.Join(dir, "cm.yaml")
	testutil.WriteFile(t, notAnInstallation, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"))
	for _, c := range []struct {
		args  []string
		stdin string
		code  int
		want  string
	}{
		{[]string{"import", notAnInstallation}, "", 1, "no APIService"},
		{[]string{"import", "-"}, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n", 1, "no APIService"},
		{[]string{"import", "-"}, "apiVersion: v1\nkind: ConfigMap\nmetadata: [x]\n", 1, "metadata"},
		{[]string{"import", "-"}, "- - - [\n", 1, "error"},
		{[]string{"import", filepath.Join(dir, "absent.yaml")}, "", 1, "absent.yaml"},
		{[]string{"import"}, "", 2, "give the manifests"},
		{[]string{"import", "-o", "xml", notAnInstallation}, "", 2, `-o "xml"`},
		{[]string{"import", "--name", "Not_A_Label", filepath.Join(testutil.Root(t), "fn", "importer", "testdata", "metrics-server-v0.8.0", "input.yaml")}, "", 1, `--name "Not_A_Label"`},
	} {
		code, stdout, stderr := run(c.args, c.stdin)
		if code != c.code || stdout != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("aggapi %q: exit %d, stdout %q, stderr %q; want exit %d and %q", c.args, code, stdout, stderr, c.code, c.want)
		}
	}
}
