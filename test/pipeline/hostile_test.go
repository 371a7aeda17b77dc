package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/aggapi/aggapi/internal/testutil"
)

// hostileConfig is a valid functionConfig for the hostile inputs.
var hostileConfig = "functionConfig:\n" + testutil.Indent(testutil.MinimalConfig("wardle"))

const hostileHead = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"

// TestHostileInputsUnderMemoryLimit runs the function on the hostile inputs that
// concern reading a ResourceList (hack/limits has the config's), and verify on dense
// documents, in a shell whose address space is limited to 1 GiB (ulimit -v 1048576).
// Each must end with the exit it names: 0 with output that parses strictly (no alias,
// no duplicate key), or 1 with a message that says why;
// never an out-of-memory crash, a panic or a hang. The 60-second timeout only guards
// against a hang; it is not a speed requirement.
func TestHostileInputsUnderMemoryLimit(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ulimit -v is checked on Linux")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	shapes, _ := filepath.Glob(filepath.Join(repoRoot, "testdata", "alias-*", "input.yaml"))
	if len(shapes) != 3 {
		t.Fatalf("want the 3 alias goldens, found %v", shapes)
	}
	cases := []hostileCase{
		{"10,000 Deployments pass through", func() []byte { return deployments(10_000) }, 0, ""},
		{"50,000 Deployments: refused up front or rendered", func() []byte { return deployments(50_000) }, -1, "needs about"},
		{"billion laughs", billionLaughs, 1, "YAML aliases expand the input to more than"},
		{"alias inside its anchor", func() []byte {
			return []byte(hostileHead + "items:\n- &loop\n  kind: ConfigMap\n  data: {self: *loop}\n" + hostileConfig)
		}, 1, "would expand forever"},
		{"nesting 1001 deep", func() []byte { return nested(1001) }, 1, "nests deeper than 1000 levels"},
		{"nesting 20000 deep", func() []byte { return nested(20000) }, 1, "exceeded max depth"},
		{"a 20 MB flow list", func() []byte {
			return []byte(hostileHead + "items:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {x: [" + strings.Repeat("a,", 10_000_000) + "a]}}\n" + hostileConfig)
		}, 1, "needs about"},
		{"more than 64 MiB", func() []byte { return bytes.Repeat([]byte("# padding padding padding padding\n"), 2_000_000) }, 1, "larger than 64 MiB"},
		// Dense documents, ~170 bytes of memory a node for two bytes of input, are refused
		// before they are parsed (they took 1.3 GB at 14 MB).
		{"a 14 MB dense foreign item", func() []byte {
			return []byte(hostileHead + "items:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {x: [" + strings.Repeat("1,", 7_000_000) + "1]}}\n" + hostileConfig)
		}, 1, "YAML nodes (line 4 alone holds about 14000024)"},
		{"a 15 MB dense flow mapping", func() []byte {
			return []byte(hostileHead + "items:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {" + denseMapping(1_400_000) + "}}\n" + hostileConfig)
		}, 1, "YAML nodes (line 4 alone"},
		{"1,500,000 tiny items", func() []byte {
			return []byte(hostileHead + "items:\n" + strings.Repeat("- {a: 1}\n", 1_500_000) + hostileConfig)
		}, 1, "more than the limit of 40 times its size plus 128 MiB"},
		{"150,000 keys in an item", func() []byte {
			var b strings.Builder
			b.WriteString(hostileHead + "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: wide}\n  data:\n")
			for i := range 150_000 {
				fmt.Fprintf(&b, "    k%d: v\n", i)
			}
			return []byte(b.String() + hostileConfig)
		}, 0, ""},
		{"150,000 keys with a duplicate", func() []byte {
			var b strings.Builder
			b.WriteString(hostileHead + "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: wide}\n  data:\n")
			for i := range 150_000 {
				fmt.Fprintf(&b, "    k%d: v\n", i%149_999)
			}
			return []byte(b.String() + hostileConfig)
		}, 1, `key "k0" appears twice`},
		{"metadata is a list", func() []byte {
			return []byte(hostileHead + "items:\n- {apiVersion: v1, kind: ConfigMap, metadata: [name]}\n" + hostileConfig)
		}, 1, "items[0] (ConfigMap): `metadata` is a list"},
		{"labels are a list", func() []byte {
			return []byte(hostileHead + "items:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a, labels: [x]}}\n" + hostileConfig)
		}, 1, "`metadata.labels` is a list"},
		{"items twice", func() []byte { return []byte(hostileHead + "items: []\nitems: []\n" + hostileConfig) }, 1, `the key "items" twice`},
		{"functionConfig twice", func() []byte { return []byte(hostileHead + "items: []\n" + hostileConfig + hostileConfig) }, 1, `the key "functionConfig" twice`},
		{"trailing document separator", func() []byte { return []byte(hostileHead + "items: []\n" + hostileConfig + "---\n") }, 0, ""},
		{"cert-manager at the name limits", func() []byte {
			long := "s" + strings.Repeat("x", 61) + "s"
			return []byte(hostileHead + "items: []\nfunctionConfig:\n  apiVersion: aggapi.dev/v1alpha1\n  kind: AggregatedAPI\n  metadata:\n    name: " + strings.Repeat("n", 40) +
				"\n  spec:\n    group: wardle.example.com\n    versions: [{name: v1alpha1}]\n    namespace: " + long + "\n    service: {name: " + long + "}\n" +
				"    server: {image: example.com/wardle:v1}\n    certificate: {mode: cert-manager}\n")
		}, 0, ""},
	}
	for _, shape := range shapes {
		cases = append(cases, hostileCase{filepath.Base(filepath.Dir(shape)), func() []byte {
			b, err := os.ReadFile(shape)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, 0, ""})
	}
	// verify reads stdin or files one document at a time: a document too dense for its
	// size is refused before it is parsed (a 14 MB flow list took 1.8 GB, 20 MB ran out
	// of memory), and configs are not kept whole (60 MB of them took 2.8 GB).
	commands := make([]hostileCommand, 0, len(cases)+6)
	for _, c := range cases {
		commands = append(commands, hostileCommand{hostileCase: c})
	}
	stdin := func(s string) func() []byte { return func() []byte { return []byte(s) } }
	configs := func() []byte {
		var b bytes.Buffer
		b.WriteString(hostileConfigDoc(0) + "  unknown: 1\n")
		for i := 1; i < 160_000; i++ {
			b.WriteString("---\n" + hostileConfigDoc(i))
		}
		return b.Bytes()
	}
	commands = append(commands,
		verifyCase("verify: a 14 MB flow list", stdin("["+strings.Repeat("1,", 7_000_000)+"1]\n"), nil,
			"reading stdin: the YAML document at line 1 (14000004 bytes) holds up to"),
		verifyCase("verify: a 20 MB flow list", stdin("["+strings.Repeat("1,", 10_000_000)+"1]\n"), nil,
			"more than the limit of 40 times its size plus 128 MiB"),
		verifyCase("verify: a ConfigMap with a 15 MB flow mapping", stdin("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {"+denseMapping(1_400_000)+"}\n"), nil,
			"YAML nodes (line 5 alone"),
		verifyCase("verify: 700,000 tiny documents", stdin(strings.Repeat("---\na: 1\n", 700_000)), nil,
			"no APIService found"),
		verifyCase("verify --config: a 14 MB dense config", stdin(""),
			map[string]func() []byte{"config.yaml": stdin(hostileConfigDoc(0) + "  x: [" + strings.Repeat("1,", 7_000_000) + "1]\n")},
			"--config: reading config.yaml: the YAML document at line 1"),
		verifyCase("verify --config: 35 MB of configs", stdin(""), map[string]func() []byte{"configs.yaml": configs},
			"AggregatedAPI wardle0 is not valid"),
	)
	// The static build (make build, make release, the image), and the cgo build a plain
	// `go build` or `go install` makes where a C compiler is found: glibc's malloc once
	// took it over the limit (fn/internal/mallocarena).
	builds := []struct{ name, bin string }{{"static", aggapiBin}}
	if cc, _ := exec.Command("go", "env", "CC").Output(); len(bytes.TrimSpace(cc)) > 0 {
		if _, err := exec.LookPath(string(bytes.TrimSpace(cc))); err == nil {
			cgoBin := filepath.Join(t.TempDir(), "aggapi")
			if err := testutil.BuildCgo(testutil.AggapiPackage, cgoBin); err != nil {
				t.Fatal(err)
			}
			builds = append(builds, struct{ name, bin string }{"cgo", cgoBin})
		}
	}
	if len(builds) == 1 {
		t.Log("no C compiler: the cgo build is not tried")
	}
	for _, build := range builds {
		t.Run(build.name, func(t *testing.T) { runHostile(t, bash, build.bin, commands) })
	}
}

type hostileCase struct {
	name  string
	stdin func() []byte
	exit  int
	want  string // in stderr (or stdout, for verify) when exit is 1
}

// hostileCommand is a case run with arguments (none for the function) and files in its
// working directory.
type hostileCommand struct {
	hostileCase
	args  []string
	files map[string]func() []byte
}

func runHostile(t *testing.T, bash, aggapiBin string, cases []hostileCommand) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdin := tc.stdin()
			dir := t.TempDir()
			for name, content := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), content(), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bash, append([]string{"-c", `ulimit -v 1048576 && exec "$0" "$@"`, aggapiBin}, tc.args...)...)
			cmd.Dir = dir
			cmd.Stdin = bytes.NewReader(stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("no end within 60 s (a hang)")
			}
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			msg := stderr.String()
			if strings.Contains(msg, "goroutine ") || strings.Contains(msg, "fatal error") || strings.Contains(msg, "panic") {
				t.Fatalf("exit %d with a crash:\n%.2000s", code, msg)
			}
			switch {
			case code == 0 && (tc.exit == 0 || tc.exit == -1):
				if err := parseStrictly(stdout.Bytes()); err != nil {
					t.Fatalf("exit 0 with output that does not parse strictly: %v", err)
				}
				if tc.name == "150,000 keys in an item" {
					// kyaml's reader is quadratic in a mapping's keys: 2.5 minutes for
					// this output (and for this input, before kustomize or kpt would
					// call the function). parseStrictly has read it.
					break
				}
				if _, err := kio.FromBytes(stdout.Bytes()); err != nil {
					t.Fatalf("exit 0 with output kyaml cannot read: %v", err)
				}
			case code == 1 && (tc.exit == 1 || tc.exit == -1):
				if !strings.Contains(msg+stdout.String(), tc.want) {
					t.Fatalf("exit 1, stderr does not say %q:\n%.2000s", tc.want, msg)
				}
			default:
				t.Fatalf("exit %d, want %d; stderr:\n%.2000s", code, tc.exit, msg)
			}
		})
	}
}

// parseStrictly parses every document of b and fails on an alias or a duplicate key,
// as yaml.v3's Unmarshal into a value does, but in linear time: that Unmarshal compares
// a mapping's keys pairwise, five minutes for 150,000 keys.
func parseStrictly(b []byte) error {
	dec := yamlv3.NewDecoder(bytes.NewReader(b))
	for {
		var doc yamlv3.Node
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		if err := strictNode(&doc); err != nil {
			return err
		}
	}
}

func strictNode(n *yamlv3.Node) error {
	switch n.Kind {
	case yamlv3.AliasNode:
		return fmt.Errorf("line %d: an alias (*%s)", n.Line, n.Value)
	case yamlv3.MappingNode:
		seen := make(map[string]bool, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind == yamlv3.ScalarNode {
				id := k.ShortTag() + " " + k.Value
				if seen[id] {
					return fmt.Errorf("line %d: the key %q twice", k.Line, k.Value)
				}
				seen[id] = true
			}
		}
	}
	for _, c := range n.Content {
		if err := strictNode(c); err != nil {
			return err
		}
	}
	return nil
}

// deployments is a ResourceList of n ordinary Deployments and a config.
func deployments(n int) []byte {
	var b bytes.Buffer
	b.WriteString(hostileHead + "items:\n")
	testutil.WriteDeployments(&b, n)
	b.WriteString(hostileConfig)
	return b.Bytes()
}

// denseMapping is the text of a flow mapping of n distinct keys, ~11 bytes a pair.
func denseMapping(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "k%d: 1", i)
	}
	return b.String()
}

// hostileConfigDoc is an AggregatedAPI named wardle<i>, as a document.
func hostileConfigDoc(i int) string {
	return fmt.Sprintf("apiVersion: aggapi.dev/v1alpha1\nkind: AggregatedAPI\nmetadata:\n  name: wardle%d\nspec:\n  group: wardle%d.example.com\n  versions:\n  - name: v1alpha1\n  namespace: wardle\n  server:\n    image: example.com/wardle:v1\n", i, i)
}

// verifyCase runs aggapi verify on stdin, or with --config FILE when files holds one.
func verifyCase(name string, stdin func() []byte, files map[string]func() []byte, want string) hostileCommand {
	args := []string{"verify"}
	for f := range files {
		args = append(args, "--config", f)
	}
	return hostileCommand{hostileCase{name, stdin, 1, want}, args, files}
}

func billionLaughs() []byte {
	var b strings.Builder
	b.WriteString(hostileHead + "x:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "  l%d: &l%d [%s*l%d]\n", i, i, strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 9), i-1)
	}
	b.WriteString("items:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: lol}, data: {lol: *l9}}\n" + hostileConfig)
	return []byte(b.String())
}

func nested(depth int) []byte {
	return []byte(hostileHead + "items:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: deep}, data: {x: " +
		strings.Repeat("[", depth) + strings.Repeat("]", depth) + "}}\n" + hostileConfig)
}

// TestParseStrictly: the hostile test's output check refuses what it must.
func TestParseStrictly(t *testing.T) {
	for in, want := range map[string]string{
		"a: 1\nb: 2\n---\nc: [x, {d: 1}]\n": "",
		"a: &x 1\nb: *x\n":                  "an alias",
		"a: 1\n---\nb: {c: 1, c: 2}\n":      `the key "c" twice`,
		"a: [\n":                            "did not find expected",
	} {
		err := parseStrictly([]byte(in))
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}
