package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aggapi/aggapi/internal/testutil"
)

// goldenKeyChunks are pieces of the key that testdata/err-private-key-in-field pastes
// into fields: the base64 of its body, and of the base64 of the whole PEM.
var goldenKeyChunks = []string{
	"GFnZ2FwaS1nb2xkZW4", "tdGVzdC1rZ", "SUdGbloyRndhUzFu", "YjJ4a1pXNHRkR1Z6ZEMx",
}

// TestMessagesCarryNoPrivateKey: a private key pasted into fields is redacted from
// every message, on stderr and in the results, whole, cut short or base64-encoded.
func TestMessagesCarryNoPrivateKey(t *testing.T) {
	stdin := goldenInput(t, "../../testdata/err-private-key-in-field")
	out, stderr, code := runFunction(t, stdin, goldenNow)
	if code != 1 || !strings.Contains(stderr, "[redacted]") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	i := bytes.Index(out, []byte("\nresults:"))
	if i < 0 {
		t.Fatalf("no results:\n%s", out)
	}
	results := string(out[i:])
	for _, c := range goldenKeyChunks {
		if !bytes.Contains(stdin, []byte(c)) {
			t.Fatalf("%q is not in the case's key", c)
		}
		if strings.Contains(stderr, c) || strings.Contains(results, c) {
			t.Errorf("key bytes %q in a message:\nstderr:\n%s\nresults:\n%s", c, stderr, results)
		}
	}
}

// TestStderrEscapesControlCharacters: a value printed as it is (here the config's
// file name, from kpt's path annotation) cannot move the cursor or clear the screen.
func TestStderrEscapesControlCharacters(t *testing.T) {
	cfg := `apiVersion: aggapi.dev/v1alpha1
kind: AggregatedAPI
metadata:
  name: wardle
  annotations:
    internal.config.kubernetes.io/path: "conf\x1b[2J\rig.yaml"
spec:
  group: wardle.example.com
  versions: [{name: v1}]
  server: {image: "x:1\x1b]0;title\a"}
`
	dir := t.TempDir()
	testutil.WriteFile(t, filepath.Join(dir, "config.yaml"), []byte(cfg))
	_, stderr, code := runFunction(t, goldenInput(t, dir), goldenNow)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	if strings.ContainsAny(stderr, "\x1b\r\a") {
		t.Errorf("a control character reached stderr: %q", stderr)
	}
	if !strings.Contains(stderr, `aggapi: error: conf\x1b[2J\rig.yaml: `) {
		t.Errorf("the path is not shown escaped: %q", stderr)
	}
}

// TestVerifyOutputIsEscaped: verify's findings name objects of the manifests, whose
// names may hold anything; they reach the terminal escaped, as its errors do.
func TestVerifyOutputIsEscaped(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "m.yaml")
	testutil.WriteFile(t, manifest, []byte(`apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: "v1.x\r\x1b[2Jok"
spec:
  group: x
  version: v1
  service: {name: api, namespace: x}
`))
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"verify", manifest}, strings.NewReader(""), &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d\n%s%s", code, &stdout, &stderr)
	}
	if strings.ContainsAny(stdout.String(), "\x1b\r") || !strings.Contains(stdout.String(), `APIService v1.x\r\x1b[2Jok: `) {
		t.Errorf("stdout: %q", &stdout)
	}
	stdout.Reset()
	missing := filepath.Join(dir, "no\x1b[2Jsuch\r.yaml")
	if code := Main([]string{"verify", missing}, strings.NewReader(""), &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if strings.ContainsAny(stderr.String(), "\x1b\r") || !strings.Contains(stderr.String(), `no\x1b[2Jsuch\r.yaml`) {
		t.Errorf("stderr: %q", &stderr)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("the missing file exists")
	}
}
