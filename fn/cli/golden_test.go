package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/keys"
	"github.com/aggapi/aggapi/fn/pki"
	"github.com/aggapi/aggapi/fn/provenance"
	"github.com/aggapi/aggapi/fn/verify"
	"github.com/aggapi/aggapi/fn/version"

	"github.com/aggapi/aggapi/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite testdata expected.yaml files (and items.yaml of cases with items.from)")

// goldenNow is the clock of every golden case unless its now.txt says otherwise.
var goldenNow = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

const masked = "MASKED-RANDOM-BYTES"

// A golden case is a folder under testdata/:
//
//	config.yaml   the functionConfig (or input.yaml: the whole stdin, for malformed input)
//	items.yaml    optional input items; items.from names a case whose unmasked output
//	              items become items.yaml on -update
//	now.txt       optional RFC 3339 clock
//	expected.yaml the whole output ResourceList, random bytes masked; or
//	errors.txt    regexes, one a line, that stderr must match; the exit must be 1 and
//	              the output items must be the input items unchanged
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("../../testdata/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	// Cases that others build their items from run first on -update.
	sortDependencies(dirs)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { runGolden(t, dir) })
	}
}

func sortDependencies(dirs []string) {
	first := map[string]bool{}
	for _, d := range dirs {
		if b, err := os.ReadFile(filepath.Join(d, "items.from")); err == nil {
			first[strings.TrimSpace(string(b))] = true
		}
	}
	var a, b []string
	for _, d := range dirs {
		if first[filepath.Base(d)] {
			a = append(a, d)
		} else {
			b = append(b, d)
		}
	}
	copy(dirs, append(a, b...))
}

func runGolden(t *testing.T, dir string) {
	now := goldenNow
	if b, err := os.ReadFile(filepath.Join(dir, "now.txt")); err == nil {
		if now, err = time.Parse(time.RFC3339, strings.TrimSpace(string(b))); err != nil {
			t.Fatalf("now.txt: %v", err)
		}
	}
	if *update {
		if b, err := os.ReadFile(filepath.Join(dir, "items.from")); err == nil {
			src := filepath.Join(filepath.Dir(dir), strings.TrimSpace(string(b)))
			out, _, code := runFunction(t, goldenInput(t, src), goldenNow)
			if code != 0 {
				t.Fatalf("items.from case %s failed", src)
			}
			testutil.WriteFile(t, filepath.Join(dir, "items.yaml"), itemsOf(t, out))
		}
	}
	stdin := goldenInput(t, dir)
	out, stderr, code := runFunction(t, stdin, now)

	if patterns, err := os.ReadFile(filepath.Join(dir, "errors.txt")); err == nil {
		if code != 1 {
			t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
		}
		for _, p := range strings.Split(strings.TrimSpace(string(patterns)), "\n") {
			if !regexp.MustCompile(p).MatchString(stderr) {
				t.Errorf("stderr does not match %q:\n%s", p, stderr)
			}
		}
		want := itemsOf(t, stdin)
		if len(out) == 0 && strings.Contains(stderr, "reading the ResourceList from stdin") {
			// Input that cannot be read as a ResourceList has no items to give back.
			want = nil
		} else if !isResourceList(stdin) || !allObjects(itemsNodes(stdin)) {
			// Plain YAML comes back wrapped in a ResourceList; non-objects cannot be written back.
			want = itemsOf(t, out)
		}
		if got := itemsOf(t, out); !bytes.Equal(got, want) {
			t.Errorf("on error the items must pass through unchanged; got:\n%s\nwant:\n%s", got, want)
		}
		if strings.Contains(string(out), "PRIVATE KEY") && !strings.Contains(string(stdin), "PRIVATE KEY") {
			t.Errorf("an error output carries key material")
		}
		return
	}

	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	checkStructure(t, out, now)
	got := mask(out, stdin)
	path := filepath.Join(dir, "expected.yaml")
	if *update {
		testutil.WriteFile(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no expected.yaml (run make update-golden): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (make update-golden rewrites it):\n%s", path, lineDiff(string(want), string(got)))
	}
}

func goldenInput(t testing.TB, dir string) []byte {
	b, err := testutil.GoldenStdin(dir)
	if err != nil {
		t.Fatalf("a case needs config.yaml or input.yaml: %v", err)
	}
	return b
}

func runFunction(t testing.TB, stdin []byte, now time.Time) (stdout []byte, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(testEnv(now), nil, bytes.NewReader(stdin), &out, &errOut)
	if strings.Contains(errOut.String(), "goroutine ") || strings.Contains(errOut.String(), "panic") {
		t.Fatalf("stack trace on stderr:\n%s", errOut.String())
	}
	return out.Bytes(), errOut.String(), code
}

// testEnv is an environment without AGGAPI_NOW whose real clock says now.
func testEnv(now time.Time) Env { return envOf(nil, now) }

func isResourceList(b []byte) bool {
	n, err := yaml.Parse(string(b))
	return err == nil && n.YNode().Kind == yaml.MappingNode && n.GetKind() == "ResourceList"
}

func itemsNodes(b []byte) []*yaml.RNode {
	n, err := yaml.Parse(string(b))
	if err != nil {
		return nil
	}
	items, _ := n.Pipe(yaml.Lookup("items"))
	if items == nil {
		return nil
	}
	elems, _ := items.Elements()
	return elems
}

// itemsOf returns the items of a ResourceList as a YAML sequence.
func itemsOf(t *testing.T, rl []byte) []byte {
	t.Helper()
	node, err := yaml.Parse(string(rl))
	if err != nil {
		return nil
	}
	items := node.Field("items")
	if items == nil || items.Value == nil || len(items.Value.Content()) == 0 {
		return nil
	}
	s, err := items.Value.String()
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s)
}

var randomValue = regexp.MustCompile(`(?m)^(\s*(?:ca\.crt|tls\.crt|tls\.key|caBundle|aggapi\.dev/serving-cert-sha256): )(\S+)$`)

var renderedDigest = regexp.MustCompile(`(?m)^(\s*aggapi\.dev/rendered-digest: )(\S+)$`)

// mask replaces the certificate and key bytes a render made fresh; bytes it carried
// over from the input stay, so reuse is checked byte for byte. The rendered digest of
// an item with masked bytes is masked too (checkStructure recomputes every digest).
func mask(out, in []byte) []byte {
	out = randomValue.ReplaceAllFunc(out, func(m []byte) []byte {
		sub := randomValue.FindSubmatch(m)
		if bytes.Contains(in, sub[2]) {
			return m
		}
		return append(append([]byte{}, sub[1]...), masked...)
	})
	// Items of the ResourceList start at column 0 with "- ".
	items := regexp.MustCompile(`(?m)^- `).FindAllIndex(out, -1)
	var b bytes.Buffer
	last := 0
	for i, start := range items {
		end := len(out)
		if i+1 < len(items) {
			end = items[i+1][0]
		}
		b.Write(out[last:start[0]])
		item := out[start[0]:end]
		if bytes.Contains(item, []byte(masked)) {
			item = renderedDigest.ReplaceAll(item, []byte("${1}"+masked))
		}
		b.Write(item)
		last = end
	}
	b.Write(out[last:])
	return b.Bytes()
}

// checkStructure verifies what masking hides: every APIService's caBundle verifies the
// serving certificate of the Service it names, the key matches, the pods carry the
// certificate's hash, no TLS verification is skipped and no other private key is out.
func checkStructure(t *testing.T, rl []byte, now time.Time) {
	t.Helper()
	if bytes.Contains(bytes.ToLower(rl), []byte("insecureskiptlsverify")) {
		t.Errorf("output mentions insecureSkipTLSVerify")
	}
	nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(rl), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatalf("output is not a ResourceList: %v", err)
	}
	secrets := map[string]map[string][]byte{}
	deployments := map[string]*yaml.RNode{}
	certificates := map[string]*yaml.RNode{}
	privateKeys := 0
	for _, n := range nodes {
		switch n.GetKind() {
		case "Secret":
			data := map[string][]byte{}
			for k, v := range n.GetDataMap() {
				b, err := base64.StdEncoding.DecodeString(v)
				if err != nil {
					t.Fatalf("secret %s: %s not base64", n.GetName(), k)
				}
				data[k] = b
				if bytes.Contains(b, []byte("PRIVATE KEY")) {
					privateKeys++
				}
			}
			secrets[n.GetNamespace()] = data
		case "Deployment":
			deployments[n.GetNamespace()] = n
		case "Certificate":
			certificates[n.GetNamespace()+"/"+n.GetName()] = n
		}
	}
	if privateKeys > 1 || bytes.Count(rl, []byte("PRIVATE KEY-----")) > 0 {
		t.Errorf("more than the serving key is in the output (%d keys in secrets)", privateKeys)
	}
	apiServices := 0
	for _, n := range nodes {
		if n.GetKind() != "APIService" {
			continue
		}
		apiServices++
		svc, ns := lookup(n, "spec", "service", "name"), lookup(n, "spec", "service", "namespace")
		serverName := svc + "." + ns + ".svc"
		d := deployments[ns]
		if d == nil {
			t.Fatalf("no Deployment in %s", ns)
		}
		mounted := lookup(d, "spec", "template", "spec", "volumes", "[name=serving-cert]", "secret", "secretName")
		podHash := func(key string) string { return lookup(d, "spec", "template", "metadata", "annotations", key) }
		caBundle := lookup(n, "spec", "caBundle")
		annotations := n.GetAnnotations()
		switch {
		case caBundle != "" && secrets[ns] != nil: // generate: our Secret, our CA (chain checked by verify below)
			sec := secrets[ns]
			if certs, err := pki.ParseCertsPEM(sec["tls.crt"]); err != nil || certs[0].Subject.CommonName != serverName {
				t.Errorf("the serving certificate's CN is not %s (%v)", serverName, err)
			}
			if podHash("aggapi.dev/serving-cert-sha256") != sha(sec["tls.crt"]) {
				t.Errorf("pod template cert hash is not the SHA-256 of tls.crt")
			}
		case caBundle != "": // provided: the user's Secret, the user's CA
			bundle, _ := base64.StdEncoding.DecodeString(caBundle)
			if cas, err := pki.ParseCertsPEM(bundle); err != nil || !cas[0].IsCA {
				t.Errorf("provided caBundle of %s is not a CA bundle: %v", n.GetName(), err)
			}
			if podHash("aggapi.dev/ca-bundle-sha256") != sha(bundle) {
				t.Errorf("pod template CA hash is not the SHA-256 of the caBundle")
			}
			if privateKeys != 0 {
				t.Errorf("provided mode emitted key material")
			}
		case annotations["cert-manager.io/inject-ca-from"] != "":
			ref := annotations["cert-manager.io/inject-ca-from"]
			cert := certificates[ref]
			if cert == nil {
				t.Fatalf("inject-ca-from names %s, which is not in the output", ref)
			}
			if got := lookup(cert, "spec", "secretName"); got != mounted {
				t.Errorf("Certificate %s writes Secret %q, the pods mount %q", ref, got, mounted)
			}
			if got := lookup(cert, "spec", "commonName"); got != serverName {
				t.Errorf("Certificate %s is for %q, want %q", ref, got, serverName)
			}
		case annotations["service.beta.openshift.io/inject-cabundle"] == "true":
			var found bool
			for _, s := range nodes {
				if s.GetKind() == "Service" && s.GetName() == svc && s.GetNamespace() == ns {
					found = s.GetAnnotations()["service.beta.openshift.io/serving-cert-secret-name"] == mounted
				}
			}
			if !found {
				t.Errorf("Service %s/%s does not ask service-ca for the Secret the pods mount (%q)", ns, svc, mounted)
			}
		default:
			t.Errorf("APIService %s has neither a caBundle nor an injection annotation", n.GetName())
		}
		if mounted == "" {
			t.Errorf("the Deployment in %s mounts no serving Secret", ns)
		}
	}
	if apiServices == 0 {
		t.Errorf("no APIService in the output")
	}
	for _, n := range nodes {
		if n.GetLabels()["aggapi.dev/owner"] == "" {
			continue
		}
		a := n.GetAnnotations()
		if got, want := a[keys.RenderedDigestAnnotation], provenance.ObjectDigest(n); got != want {
			t.Errorf("%s %s: rendered digest %s, the object's is %s", n.GetKind(), n.GetName(), got, want)
		}
		if a[keys.ConfigDigestAnnotation] == "" || a[keys.VersionAnnotation] != version.Devel {
			t.Errorf("%s %s is not stamped: %v", n.GetKind(), n.GetName(), a)
		}
	}
	report := verify.Manifests(nodes, verify.Options{Now: now})
	for _, f := range report.Findings {
		if f.Severity == verify.Error {
			t.Errorf("aggapi verify: %s", f)
		}
	}
}

func lookup(n *yaml.RNode, path ...string) string {
	v, err := n.Pipe(yaml.Lookup(path...))
	if err != nil || v == nil {
		return ""
	}
	return yaml.GetValue(v)
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// lineDiff shows the first differing lines, enough to see what changed.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl + "\n")
			if shown++; shown == 10 {
				break
			}
		}
	}
	return b.String()
}
