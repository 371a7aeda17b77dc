package verify

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

const object = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"

// TestReadOnlyRegularFiles: a device, a symlink to one inside a directory, or a FIFO is
// an error naming the path, never a read that does not end (a FIFO opened blocking
// would hang here until the test times out; /dev/zero would exhaust memory).
func TestReadOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mkdir := func(name string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	zeroDir := mkdir("zero")
	if err := os.Symlink("/dev/zero", filepath.Join(zeroDir, "z.yaml")); err != nil {
		t.Fatal(err)
	}
	fifoDir := mkdir("fifo")
	if err := syscall.Mkfifo(filepath.Join(fifoDir, "f.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/dev/zero":                      "character device",
		"/dev/urandom":                   "character device",
		zeroDir:                          "z.yaml: it is a character device, not a regular file",
		fifoDir:                          "f.yaml: it is a named pipe (FIFO), not a regular file",
		filepath.Join(fifoDir, "f.yaml"): "named pipe",
	} {
		nodes, err := ReadManifests(path, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %d objects, err %v; want %q", path, len(nodes), err, want)
		}
	}

	// Files that are not YAML by name are not opened at all, and a symlink to a regular
	// file is read.
	okDir := mkdir("ok")
	if err := syscall.Mkfifo(filepath.Join(okDir, "notes.txt"), 0o644); err != nil {
		t.Fatal(err)
	}
	write("ok/a.yaml", object)
	if err := os.Symlink(filepath.Join(dir, "ok", "a.yaml"), filepath.Join(okDir, "b.yml")); err != nil {
		t.Fatal(err)
	}
	if nodes, err := ReadManifests(okDir, nil); err != nil || len(nodes) != 2 {
		t.Errorf("%d objects, err %v; want 2", len(nodes), err)
	}
	// A symlink to a directory, named as the path, is read; one inside is not entered.
	link := filepath.Join(dir, "link")
	if err := os.Symlink(okDir, link); err != nil {
		t.Fatal(err)
	}
	if nodes, err := ReadManifests(link, nil); err != nil || len(nodes) != 2 {
		t.Errorf("through a symlink: %d objects, err %v; want 2", len(nodes), err)
	}
	if err := os.Symlink(zeroDir, filepath.Join(okDir, "zero")); err != nil {
		t.Fatal(err)
	}
	if nodes, err := ReadManifests(okDir, nil); err != nil || len(nodes) != 2 {
		t.Errorf("a symlinked directory inside was entered: %d objects, err %v", len(nodes), err)
	}
}

// TestReadStopsAtTheLimit: the limit holds over every path and stdin together, and input
// of exactly the limit is read.
func TestReadStopsAtTheLimit(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.yaml")
	if err := os.WriteFile(p, []byte(object), 0o644); err != nil {
		t.Fatal(err)
	}
	n := int64(len(object))
	var tooLarge *TooLargeError

	r := &Reader{MaxBytes: n}
	if nodes, err := r.Read(p, nil); err != nil || len(nodes) != 1 {
		t.Fatalf("a file of exactly the limit: %d objects, %v", len(nodes), err)
	}
	if _, err := r.Read(p, nil); !errors.As(err, &tooLarge) || !strings.Contains(err.Error(), p) {
		t.Errorf("a second file over the total: %v", err)
	}
	if _, err := (&Reader{MaxBytes: n - 1}).Read(p, nil); !errors.As(err, &tooLarge) {
		t.Errorf("a file over the limit: %v", err)
	}

	r = &Reader{MaxBytes: n}
	if nodes, err := r.Read("-", strings.NewReader(object)); err != nil || len(nodes) != 1 {
		t.Fatalf("stdin of exactly the limit: %d objects, %v", len(nodes), err)
	}
	// stdin has no size to look at first: the reader stops one byte past the limit.
	endless := &endlessComments{}
	if _, err := (&Reader{MaxBytes: 1 << 20}).Read("-", endless); !errors.As(err, &tooLarge) || !strings.Contains(err.Error(), "stdin") {
		t.Errorf("endless stdin: %v", err)
	}
	if endless.n > 1<<20+64<<10 {
		t.Errorf("read %d bytes of stdin under a limit of %d", endless.n, 1<<20)
	}
}

// endlessComments is stdin that never ends: comment lines, which the YAML reader keeps
// reading.
type endlessComments struct{ n int }

func (c *endlessComments) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "#\n"[(c.n+i)%2]
	}
	c.n += len(p)
	return len(p), nil
}

// TestReadUnwraps: a ResourceList, a List and a bare list of objects give their objects;
// scalars and other YAML are dropped.
func TestReadUnwraps(t *testing.T) {
	in := `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
functionConfig: {apiVersion: v1, kind: ConfigMap, metadata: {name: fc}}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}
---
- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
---
just a string
---
`
	nodes, err := ReadManifests("-", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range nodes {
		names = append(names, n.GetName())
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Errorf("objects %v, want a,b,c", names)
	}
}

// TestCompactReadsBack: the compact form a Set keeps reads back every string as it was,
// as a value and as a key.
func TestCompactReadsBack(t *testing.T) {
	for _, v := range []string{"", "plain", "quote \" backslash \\", "tab\tnewline\n", "\x00\x01\x7f", "é ü 日本 \u2028 \ufeff", "😀", "null", "true", "0x1F"} {
		n := yaml.NewScalarRNode(v)
		m := yaml.NewMapRNode(&map[string]string{v: v})
		for _, node := range []*yaml.RNode{n, m} {
			back := decode(string(compact(nil, node.YNode())))
			if back == nil {
				t.Fatalf("%q does not read back: %s", v, compact(nil, node.YNode()))
			}
			if node == n && back.YNode().Value != v {
				t.Errorf("%q read back as %q", v, back.YNode().Value)
			}
			if node == m {
				if got := back.Field(v); got == nil || got.Value.YNode().Value != v {
					t.Errorf("key %q did not read back: %s", v, compact(nil, node.YNode()))
				}
			}
		}
	}
}

// TestReadRefusesMetadataThatIsNotAMapping: kyaml's name and namespace getters index a
// metadata list as if it were a mapping (a one-element list panicked `aggapi verify`);
// such an object is an error naming its line, and a null metadata is not.
func TestReadRefusesMetadataThatIsNotAMapping(t *testing.T) {
	for in, want := range map[string]string{
		"apiVersion: v1\nkind: Service\nmetadata:\n- name: a\n":  "line 4: a Service whose `metadata` is a list, want a mapping",
		"kind: List\nitems:\n- kind: ConfigMap\n  metadata: x\n": `line 4: a ConfigMap whose ` + "`metadata`" + ` is a scalar ("x"), want a mapping`,
		"- metadata: [a, b]\n": "line 1: an object without a kind whose `metadata` is a list",
		"apiVersion: v1\nkind: Service\nmetadata:\n---\nkind: ConfigMap\n": "",
	} {
		set := NewSet()
		_, err := (&Reader{Keep: set.Add}).Read("-", strings.NewReader(in))
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}
