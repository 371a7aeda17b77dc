//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/aggapi/aggapi/internal/testutil"
	"github.com/aggapi/aggapi/test/e2e/controlplane"
)

// What examples/kustomize/aggapi.yaml renders; the test reads the rendered
// objects and only uses these names to find them.
const (
	wardleNamespace      = "wardle"              // spec.namespace
	wardleServiceDNSName = "api.wardle.svc"      // <spec.service.name>.<namespace>.svc: the name the aggregator verifies
	wardleServiceAccount = "wardle-apiserver"    // <name>-apiserver
	wardleSecret         = "wardle-serving-cert" // <name>-serving-cert
	wardleGroup          = "wardle.example.com"

	// Objects the test itself creates.
	flunderNamespace = "e2e-flunders"
	flunderName      = "e2e-flunder"
	// The sample-apiserver's data survives its restart during the rotation.
	wardleEtcdPrefix = "/aggapi-e2e-wardle"

	execPathInExample = "path: ../../bin/aggapi" // relative to examples/kustomize*
)

// sample-apiserver v0.37.2 serves flunders and fischers in v1alpha1 and
// flunders in v1beta1, so the example's two versions are used unchanged.
var wardleAPIServices = []string{"v1alpha1.wardle.example.com", "v1beta1.wardle.example.com"}

// TestAggapiOnControlPlane proves the product on a real control plane (etcd,
// kube-apiserver v1.37.2 and kube-controller-manager on 127.0.0.1). The
// kube-apiserver's front-proxy credentials come from `aggapi
// aggregation-layer`; every object of the extension API server comes from
// `kustomize build` of examples/kustomize. The test adds only the loopback
// plumbing (a kustomize overlay: ExternalName Service, APIService port) and a
// sample-apiserver process in place of the pod no kubelet will run, started
// with the rendered Secret and as the rendered ServiceAccount; no RBAC is
// created for it. The steps share one control plane and build on each other.
func TestAggapiOnControlPlane(t *testing.T) {
	binaries := controlplane.RequireBinaries(t)
	aggapi := testutil.Aggapi(t)
	kustomize := testutil.Kustomize(t)
	ctx := t.Context()
	start := time.Now()
	work := t.TempDir()

	// Each step needs the state the previous ones left; stop at the first failure.
	step := func(name string, f func(t *testing.T)) {
		t.Helper()
		began := time.Now()
		ok := t.Run(name, f)
		t.Logf("step %q took %v", name, time.Since(began).Round(time.Millisecond))
		if !ok {
			t.FailNow()
		}
	}

	// 1. The kube-apiserver's front-proxy CA and client certificate, made by aggapi.
	frontProxyDir := filepath.Join(work, "front-proxy")
	var frontProxyFlags map[string]string
	step("aggregation-layer prints the kube-apiserver flags", func(t *testing.T) {
		frontProxyFlags = aggregationLayerFlags(t, aggapi, frontProxyDir)
	})

	cpStart := time.Now()
	cp := controlplane.StartForTest(t, controlplane.Options{
		Binaries: binaries,
		FrontProxy: &controlplane.FrontProxy{
			CAFile:         frontProxyFlags["--requestheader-client-ca-file"],
			ClientCertFile: frontProxyFlags["--proxy-client-cert-file"],
			ClientKeyFile:  frontProxyFlags["--proxy-client-key-file"],
		},
		RequestHeaderAllowedNames: strings.Split(frontProxyFlags["--requestheader-allowed-names"], ","),
		// Endpoint routing cannot reach loopback; see the controlplane package doc.
		DisableAggregatorRouting: true,
		// Folds the rendered <name>-view/-edit roles into view/edit/admin.
		StartControllerManager: true,
	})
	t.Logf("control plane ready in %v", time.Since(cpStart).Round(time.Millisecond))
	admin, err := cp.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	kubectl := &kubectlRunner{cp: cp, bin: binaries.Kubectl, cacheDir: filepath.Join(work, "kubectl-cache")}

	step("kube-apiserver publishes aggapi's front-proxy CA", func(t *testing.T) {
		checkExtensionAPIServerAuthentication(t, admin, frontProxyFlags)
	})
	frontProxyClient := readKeyPair(t, frontProxyFlags["--proxy-client-cert-file"], frontProxyFlags["--proxy-client-key-file"])

	// 2. Render the example through kustomize, with an overlay that routes the
	// APIServices to the port the local sample-apiserver will listen on.
	port := freeLoopbackPort(t)
	overlay := writeKustomizations(t, filepath.Join(work, "render"), "kustomize", aggapi, port, nil)
	var first *rendered
	step("kustomize renders the example", func(t *testing.T) {
		first = kustomizeBuild(t, kustomize, overlay)
		checkRendered(t, first, port)
		checkVerify(t, aggapi, first)
	})

	// 3. Apply it. The Deployment never gets a pod: there is no kubelet.
	step("kubectl applies the rendered output", func(t *testing.T) {
		kubectl.apply(t, first.yaml)
	})

	// 4. The rendered Secret and ServiceAccount are all the server gets.
	saKubeconfig := filepath.Join(work, "wardle-apiserver.kubeconfig")
	var server *controlplane.SampleAPIServer
	step("sample-apiserver runs as the rendered ServiceAccount with the rendered certificate", func(t *testing.T) {
		token, err := cp.ServiceAccountToken(ctx, wardleNamespace, wardleServiceAccount, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		user := "system:serviceaccount:" + wardleNamespace + ":" + wardleServiceAccount
		if err := cp.WriteKubeconfig(saKubeconfig, user, controlplane.Credentials{Token: token}); err != nil {
			t.Fatal(err)
		}
		server = startRenderedServer(t, cp, first, "wardle-apiserver-1", port, saKubeconfig, frontProxyClient)
	})

	// 5. The API works through the aggregator, for admins and RBAC users.
	step("every rendered APIService becomes Available", func(t *testing.T) {
		began := time.Now()
		for _, name := range first.apiServiceNames() {
			c := waitAvailableStatus(t, admin, name, "True", time.Minute)
			if c.Reason != "Passed" {
				t.Errorf("APIService %s: Available=True with reason %q (%s), want Passed", name, c.Reason, c.Message)
			}
		}
		t.Logf("all APIServices Available %v after the server was ready", time.Since(began).Round(time.Millisecond))
		waitProxied(t, admin, first)
	})

	step("kubectl get flunders -A finds none", func(t *testing.T) {
		stdout, stderr, err := kubectl.run(t, nil, "get", "flunders", "-A")
		if err != nil {
			t.Fatalf("kubectl get flunders -A: %v\n%s", err, stderr)
		}
		if len(bytes.TrimSpace(stdout)) != 0 || !strings.Contains(string(stderr), "No resources found") {
			t.Errorf("kubectl get flunders -A: stdout %q, stderr %q; want no rows and \"No resources found\"", stdout, stderr)
		}
	})

	var flunderUID string
	step("a Flunder created through the aggregator reads back in both versions", func(t *testing.T) {
		mustCreate(t, admin, "/api/v1/namespaces", object("v1", "Namespace", "", flunderNamespace))
		manifest := fmt.Sprintf(`apiVersion: wardle.example.com/v1alpha1
kind: Flunder
metadata:
  name: %s
  namespace: %s
  labels:
    aggapi.dev/e2e: roundtrip
`, flunderName, flunderNamespace)
		kubectl.must(t, []byte(manifest), "create", "-f", "-")
		for _, version := range []string{"v1alpha1", "v1beta1"} {
			got := getFlunder(t, admin, version)
			if got.APIVersion != wardleGroup+"/"+version || got.Metadata.Labels["aggapi.dev/e2e"] != "roundtrip" {
				t.Errorf("Flunder read through %s: %+v", version, got)
			}
			if flunderUID == "" {
				flunderUID = got.Metadata.UID
			} else if got.Metadata.UID != flunderUID {
				t.Errorf("Flunder through %s has uid %s, through v1alpha1 %s", version, got.Metadata.UID, flunderUID)
			}
		}
	})

	step("built-in view and edit roles carry the rendered rules", func(t *testing.T) {
		checkUserRoles(t, cp, admin)
	})

	// 6. A caBundle that does not hold the serving CA makes the APIService
	// unavailable; the right one makes it available again.
	var flipIn time.Duration
	step("a caBundle of another render fails the discovery check", func(t *testing.T) {
		other := kustomizeBuild(t, kustomize, overlay) // no previous output: a fresh CA
		if bytes.Equal(other.caBundle(t, wardleAPIServices[1]), first.caBundle(t, wardleAPIServices[1])) {
			t.Fatal("two generator renders produced the same caBundle; the broken-caBundle check would prove nothing")
		}
		broken := wardleAPIServices[1]
		began := time.Now()
		kubectl.apply(t, other.object(t, "APIService", "", broken).raw)
		c := waitAvailableStatus(t, admin, broken, "False", 30*time.Second)
		flipIn = time.Since(began)
		t.Logf("%s Available=False %v after the apply: reason %q, message %q", broken, flipIn.Round(time.Millisecond), c.Reason, c.Message)
		if c.Reason != "FailedDiscoveryCheck" || !strings.Contains(c.Message, "x509") || !strings.Contains(c.Message, "unknown authority") {
			t.Errorf("%s: reason %q, message %q; want FailedDiscoveryCheck with an x509 unknown-authority error", broken, c.Reason, c.Message)
		}
		// The other version shares the Service but has its own caBundle.
		if c := apiServiceAvailability(t, admin, wardleAPIServices[0]); c.Status != "True" {
			t.Errorf("%s became %s (%s) although its caBundle did not change", wardleAPIServices[0], c.Status, c.Message)
		}
		// Users see it too: the aggregator no longer proxies that version.
		err := admin.Get(t.Context(), flunderPath("v1beta1", flunderName), nil)
		if !controlplane.IsStatus(err, http.StatusServiceUnavailable) {
			t.Errorf("GET a v1beta1 Flunder with the broken caBundle: %v, want HTTP 503", err)
		}

		kubectl.apply(t, first.yaml)
		began = time.Now()
		waitAvailableStatus(t, admin, broken, "True", 30*time.Second)
		t.Logf("%s Available again %v after re-applying the first render", broken, time.Since(began).Round(time.Millisecond))
		waitProxied(t, admin, first)
		getFlunder(t, admin, "v1beta1")
	})

	// 7. Rotation: a re-render that must reissue (another key algorithm) trusts
	// the new and the previous CA, so the running server stays trusted until it
	// restarts with the new certificate.
	var second *rendered
	step("re-render reissues with a caBundle of new and previous CA", func(t *testing.T) {
		rotate := writeKustomizations(t, filepath.Join(work, "rotate"), "kustomize-transformer", aggapi, port,
			&transformerInput{previous: first.yaml, edits: [][2]string{{"keyAlgorithm: ECDSA-P256", "keyAlgorithm: ECDSA-P384"}}})
		second = kustomizeBuild(t, kustomize, rotate)
		checkRendered(t, second, port)
		checkVerify(t, aggapi, second)
		checkRotation(t, first, second)
	})

	step("the APIServices stay Available while the old certificate is served", func(t *testing.T) {
		kubectl.apply(t, second.yaml)
		// The broken caBundle above flipped the condition flipIn after its
		// apply, so that is how long a caBundle change takes to reach the
		// aggregator; watch for several times as long. Every check also
		// proxies a request, which the aggregator verifies against the new
		// caBundle.
		window := max(5*time.Second, 3*flipIn)
		checks := 0
		deadline := time.Now().Add(window)
		for time.Now().Before(deadline) {
			for _, name := range second.apiServiceNames() {
				if c := apiServiceAvailability(t, admin, name); c.Status != "True" {
					t.Fatalf("%s left Available %v after the rotated render was applied: %s %s: %s",
						name, window-time.Until(deadline), c.Status, c.Reason, c.Message)
				}
			}
			getFlunder(t, admin, "v1alpha1")
			getFlunder(t, admin, "v1beta1")
			checks++
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("Available and serving for %v (%d checks) with cert A behind caBundle [CA B, CA A]", window.Round(time.Millisecond), checks)
		if got := servedCertificate(t, port); !got.Equal(first.leaf(t)) {
			t.Fatalf("the server no longer presents the first render's certificate; the window proved nothing")
		}
	})

	step("restarted with the new certificate, the API is Available and keeps its data", func(t *testing.T) {
		if err := server.Stop(); err != nil {
			t.Fatalf("stopping the sample-apiserver: %v", err)
		}
		server = startRenderedServer(t, cp, second, "wardle-apiserver-2", port, saKubeconfig, frontProxyClient)
		if got := servedCertificate(t, port); !got.Equal(second.leaf(t)) {
			t.Fatal("the restarted server does not present the rotated certificate")
		}
		for _, name := range second.apiServiceNames() {
			waitAvailableStatus(t, admin, name, "True", time.Minute)
		}
		waitProxied(t, admin, second)
		// The condition may not have flickered during the restart; the proof is
		// that requests reach the new server, over new TLS connections the
		// aggregator verifies against [CA B, CA A], and find the old data.
		for _, version := range []string{"v1alpha1", "v1beta1"} {
			if got := getFlunder(t, admin, version); got.Metadata.UID != flunderUID {
				t.Errorf("Flunder through %s after the restart has uid %s, want %s", version, got.Metadata.UID, flunderUID)
			}
		}
	})

	t.Logf("whole test, control plane included: %v", time.Since(start).Round(time.Millisecond))
}

// Tools.

// kubectlRunner runs the harness's kubectl as admin with a discovery cache of
// the test's own (not ~/.kube/cache).
type kubectlRunner struct {
	cp       *controlplane.ControlPlane
	bin      string
	cacheDir string
}

func (k *kubectlRunner) cacheFlag() string { return "--cache-dir=" + k.cacheDir }

// must runs kubectl through ControlPlane.Kubectl and fails the test on error.
func (k *kubectlRunner) must(t *testing.T, stdin []byte, args ...string) {
	t.Helper()
	if out, err := k.cp.Kubectl(t.Context(), bytes.NewReader(stdin), append([]string{k.cacheFlag()}, args...)...); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// apply server-side applies YAML or JSON manifests.
func (k *kubectlRunner) apply(t *testing.T, manifests []byte) {
	t.Helper()
	k.must(t, manifests, "apply", "--server-side", "-f", "-")
}

// run returns stdout and stderr separately: kubectl reports "No resources
// found" on stderr, which ControlPlane.Kubectl only returns on failure.
func (k *kubectlRunner) run(t *testing.T, stdin []byte, args ...string) (stdout, stderr []byte, err error) {
	t.Helper()
	r := testutil.Run(t, "", stdin, k.bin, append([]string{"--kubeconfig=" + k.cp.Kubeconfig, k.cacheFlag()}, args...)...)
	return r.Stdout, r.Stderr, r.Err
}

// Step 1: aggregation layer.

// aggregationLayerFlags runs `aggapi aggregation-layer --dir dir`, checks the
// flags it prints and returns them by name.
func aggregationLayerFlags(t *testing.T, aggapi, dir string) map[string]string {
	t.Helper()
	res := testutil.Run(t, "", nil, aggapi, "aggregation-layer", "--dir", dir)
	stdout, stderr, err := res.Stdout, res.Stderr, res.Err
	if err != nil {
		t.Fatalf("aggapi aggregation-layer: %v\n%s", err, stderr)
	}
	t.Logf("aggapi aggregation-layer: %s", bytes.TrimSpace(stderr))
	flags := map[string]string{}
	for line := range strings.Lines(strings.TrimSpace(string(stdout))) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || !strings.HasPrefix(name, "--") {
			t.Fatalf("aggapi aggregation-layer printed %q, want one --flag=value a line", line)
		}
		flags[name] = value
	}
	want := map[string]string{
		"--requestheader-client-ca-file":       filepath.Join(dir, "front-proxy-ca.crt"),
		"--requestheader-allowed-names":        controlplane.FrontProxyClientName,
		"--requestheader-extra-headers-prefix": "X-Remote-Extra-",
		"--requestheader-group-headers":        "X-Remote-Group",
		"--requestheader-username-headers":     "X-Remote-User",
		"--proxy-client-cert-file":             filepath.Join(dir, "front-proxy-client.crt"),
		"--proxy-client-key-file":              filepath.Join(dir, "front-proxy-client.key"),
	}
	for name, value := range want {
		if flags[name] != value {
			t.Errorf("aggapi aggregation-layer: %s=%q, want %q", name, flags[name], value)
		}
	}
	// Without --aggregator-routing it must not ask for endpoint routing, which
	// could not reach the loopback server here.
	if len(flags) != len(want) {
		t.Errorf("aggapi aggregation-layer printed %d flags, want exactly %d: %v", len(flags), len(want), flags)
	}
	for _, f := range []string{"--requestheader-client-ca-file", "--proxy-client-cert-file", "--proxy-client-key-file"} {
		if _, err := os.Stat(flags[f]); err != nil {
			t.Errorf("%s names a file aggapi did not write: %v", f, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return flags
}

// checkExtensionAPIServerAuthentication checks that kube-apiserver publishes
// aggapi's front-proxy CA and header names to extension API servers
// (kube-system/extension-apiserver-authentication), i.e. that it runs with
// the printed flags.
func checkExtensionAPIServerAuthentication(t *testing.T, admin *controlplane.Client, flags map[string]string) {
	t.Helper()
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := admin.Get(t.Context(), "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication", &cm); err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(flags["--requestheader-client-ca-file"])
	if err != nil {
		t.Fatal(err)
	}
	if got := cm.Data["requestheader-client-ca-file"]; strings.TrimSpace(got) != strings.TrimSpace(string(caPEM)) {
		t.Errorf("requestheader-client-ca-file in the ConfigMap is not aggapi's front-proxy CA:\n%s", got)
	}
	for key, flag := range map[string]string{
		"requestheader-allowed-names":        "--requestheader-allowed-names",
		"requestheader-group-headers":        "--requestheader-group-headers",
		"requestheader-username-headers":     "--requestheader-username-headers",
		"requestheader-extra-headers-prefix": "--requestheader-extra-headers-prefix",
	} {
		var got []string
		if err := json.Unmarshal([]byte(cm.Data[key]), &got); err != nil {
			t.Errorf("%s in the ConfigMap: %q: %v", key, cm.Data[key], err)
			continue
		}
		if want := strings.Split(flags[flag], ","); !slices.Equal(got, want) {
			t.Errorf("%s in the ConfigMap is %q, aggapi printed %s=%s", key, got, flag, flags[flag])
		}
	}
}

// Step 2: rendering.

// transformerInput makes writeKustomizations use the transformer form over a
// previous render, with edits to the config.
type transformerInput struct {
	previous []byte
	edits    [][2]string // old → new, each exactly once in aggapi.yaml
}

// writeKustomizations writes under dir a copy of examples/<example> (base/,
// with the function's exec path made absolute; with in, its rendered.yaml is
// in.previous) and an overlay (overlay/) that reaches the sample-apiserver on
// loopback, and returns the overlay directory.
//
// The overlay only changes what loopback needs: the Service becomes an
// ExternalName "127.0.0.1" (ports may stay), and every APIService's
// spec.service.port becomes the server's port. The aggregator, with routing
// disabled, then dials 127.0.0.1:<port> and verifies the certificate for
// <service>.<namespace>.svc against the caBundle, exactly as in a cluster.
func writeKustomizations(t *testing.T, dir, example, aggapi string, port int, in *transformerInput) string {
	t.Helper()
	root := testutil.Root(t)
	base := filepath.Join(dir, "base")
	overlay := filepath.Join(dir, "overlay")
	for _, d := range []string{base, overlay} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(root, "examples", example, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	config := read("aggapi.yaml")
	edits := [][2]string{{execPathInExample, "path: " + aggapi}}
	if in != nil {
		edits = append(edits, in.edits...)
		testutil.WriteFile(t, filepath.Join(base, "rendered.yaml"), in.previous)
	}
	for _, e := range edits {
		if n := strings.Count(config, e[0]); n != 1 {
			t.Fatalf("examples/%s/aggapi.yaml holds %q %d times, want once", example, e[0], n)
		}
		config = strings.Replace(config, e[0], e[1], 1)
	}
	testutil.WriteFile(t, filepath.Join(base, "aggapi.yaml"), []byte(config))
	testutil.WriteFile(t, filepath.Join(base, "kustomization.yaml"), []byte(read("kustomization.yaml")))
	testutil.WriteFile(t, filepath.Join(overlay, "kustomization.yaml"), fmt.Appendf(nil, `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
# Test-only: route the aggregator to a sample-apiserver on 127.0.0.1:%[1]d.
resources:
- ../base
patches:
- target:
    version: v1
    kind: Service
    namespace: %[2]s
  patch: |-
    - op: add
      path: /spec/type
      value: ExternalName
    - op: add
      path: /spec/externalName
      value: "127.0.0.1"
- target:
    group: apiregistration.k8s.io
    kind: APIService
  patch: |-
    - op: replace
      path: /spec/service/port
      value: %[1]d
`, port, wardleNamespace))
	return overlay
}

// rendered is the output of one kustomize build.
type rendered struct {
	yaml    []byte
	objects []renderedObject
}

type renderedObject struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	raw []byte // JSON
}

// kustomizeBuild runs the pinned kustomize on dir and parses the output.
func kustomizeBuild(t *testing.T, kustomize, dir string) *rendered {
	t.Helper()
	// Both flags, or kustomize silently skips the exec function (README).
	res := testutil.Run(t, dir, nil, kustomize, "build", "--enable-alpha-plugins", "--enable-exec", ".")
	stdout, stderr, err := res.Stdout, res.Stderr, res.Err
	if err != nil {
		t.Fatalf("kustomize build --enable-alpha-plugins --enable-exec %s: %v\n%s", dir, err, stderr)
	}
	nodes, err := kio.FromBytes(stdout)
	if err != nil {
		t.Fatalf("parsing the output of kustomize build: %v", err)
	}
	r := &rendered{yaml: stdout}
	for _, n := range nodes {
		raw, err := n.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		obj := renderedObject{raw: raw}
		if err := json.Unmarshal(raw, &obj); err != nil {
			t.Fatal(err)
		}
		r.objects = append(r.objects, obj)
	}
	return r
}

func (r *rendered) object(t *testing.T, kind, namespace, name string) renderedObject {
	t.Helper()
	for _, o := range r.objects {
		if o.Kind == kind && o.Metadata.Namespace == namespace && o.Metadata.Name == name {
			return o
		}
	}
	t.Fatalf("no %s %s/%s in the rendered output", kind, namespace, name)
	return renderedObject{}
}

func (o renderedObject) decode(t *testing.T, out any) {
	t.Helper()
	if err := json.Unmarshal(o.raw, out); err != nil {
		t.Fatalf("decoding %s %s: %v", o.Kind, o.Metadata.Name, err)
	}
}

func (r *rendered) apiServiceNames() []string {
	var names []string
	for _, o := range r.objects {
		if o.Kind == "APIService" {
			names = append(names, o.Metadata.Name)
		}
	}
	return names
}

type apiServiceSpec struct {
	Spec struct {
		Group    string `json:"group"`
		Version  string `json:"version"`
		CABundle []byte `json:"caBundle"` // base64 in JSON
		Service  struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
			Port      int    `json:"port"`
		} `json:"service"`
		InsecureSkipTLSVerify bool `json:"insecureSkipTLSVerify"`
	} `json:"spec"`
}

func (r *rendered) caBundle(t *testing.T, apiService string) []byte {
	t.Helper()
	var s apiServiceSpec
	r.object(t, "APIService", "", apiService).decode(t, &s)
	return s.Spec.CABundle
}

// servingSecret returns the rendered Secret's tls.crt, tls.key and ca.crt.
func (r *rendered) servingSecret(t *testing.T) (certPEM, keyPEM, caPEM []byte) {
	t.Helper()
	var s struct {
		Type string            `json:"type"`
		Data map[string][]byte `json:"data"`
	}
	r.object(t, "Secret", wardleNamespace, wardleSecret).decode(t, &s)
	if s.Type != "kubernetes.io/tls" {
		t.Fatalf("Secret %s has type %q, want kubernetes.io/tls", wardleSecret, s.Type)
	}
	return s.Data["tls.crt"], s.Data["tls.key"], s.Data["ca.crt"]
}

// leaf is the rendered serving certificate.
func (r *rendered) leaf(t *testing.T) *x509.Certificate {
	t.Helper()
	certPEM, _, _ := r.servingSecret(t)
	return testutil.ParseCerts(t, "tls.crt of the serving Secret", certPEM)[0]
}

// checkRendered checks what the rest of the test relies on: the APIServices
// sample-apiserver serves, each routed to port with a caBundle that verifies
// the rendered serving certificate for <service>.<namespace>.svc, and the
// overlay's ExternalName Service.
func checkRendered(t *testing.T, r *rendered, port int) {
	t.Helper()
	if got := r.apiServiceNames(); !slices.Equal(got, wardleAPIServices) {
		t.Fatalf("rendered APIServices %v, want %v (the versions sample-apiserver serves)", got, wardleAPIServices)
	}
	r.object(t, "Namespace", "", wardleNamespace)
	r.object(t, "ServiceAccount", wardleNamespace, wardleServiceAccount)
	var svc struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Spec struct {
			Type         string `json:"type"`
			ExternalName string `json:"externalName"`
		} `json:"spec"`
	}
	r.object(t, "Service", wardleNamespace, "api").decode(t, &svc)
	if svc.Spec.Type != "ExternalName" || svc.Spec.ExternalName != "127.0.0.1" {
		t.Errorf("the overlay did not make Service %s/api an ExternalName 127.0.0.1: %+v", wardleNamespace, svc.Spec)
	}
	certPEM, keyPEM, caPEM := r.servingSecret(t)
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Errorf("rendered tls.crt/tls.key: %v", err)
	}
	leaf := testutil.ParseCerts(t, "tls.crt of the serving Secret", certPEM)[0]
	if leaf.Subject.CommonName != wardleServiceDNSName {
		t.Errorf("serving certificate CN %q, want %q", leaf.Subject.CommonName, wardleServiceDNSName)
	}
	for _, name := range wardleAPIServices {
		var s apiServiceSpec
		r.object(t, "APIService", "", name).decode(t, &s)
		if s.Spec.Service.Port != port || s.Spec.Service.Namespace != wardleNamespace || s.Spec.Service.Name != "api" || s.Spec.InsecureSkipTLSVerify {
			t.Errorf("APIService %s: %+v, want Service %s/api port %d with TLS verification", name, s.Spec.Service, wardleNamespace, port)
		}
		roots := x509.NewCertPool()
		for _, c := range testutil.ParseCerts(t, "caBundle of APIService "+name, s.Spec.CABundle) {
			roots.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: wardleServiceDNSName, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("APIService %s: the rendered serving certificate does not verify against its caBundle: %v", name, err)
		}
		if !testutil.ParseCerts(t, "caBundle of APIService "+name, s.Spec.CABundle)[0].Equal(testutil.ParseCerts(t, "ca.crt of the serving Secret", caPEM)[0]) {
			t.Errorf("APIService %s: the caBundle does not start with the Secret's ca.crt", name)
		}
	}
}

// checkVerify runs `aggapi verify` on the output: no errors; the only
// warnings are that the ExternalName backend is not checked offline.
func checkVerify(t *testing.T, aggapi string, r *rendered) {
	t.Helper()
	res := testutil.Run(t, "", r.yaml, aggapi, "verify")
	stdout, stderr, err := res.Stdout, res.Stderr, res.Err
	if err != nil {
		t.Fatalf("aggapi verify: %v\n%s%s", err, stdout, stderr)
	}
	for line := range strings.Lines(string(stdout)) {
		if strings.HasPrefix(line, "warning:") && !strings.Contains(line, "is an ExternalName") {
			t.Errorf("aggapi verify: unexpected %s", line)
		}
	}
	if !strings.Contains(string(stdout), fmt.Sprintf("checked %d APIService(s): 0 error(s)", len(wardleAPIServices))) {
		t.Errorf("aggapi verify:\n%s", stdout)
	}
}

// checkRotation checks the rotated render against the first: a new P-384
// certificate from a new CA, a caBundle of [new CA, previous CA] on every
// APIService, and a new certificate hash on the pod template (so pods roll).
func checkRotation(t *testing.T, first, second *rendered) {
	t.Helper()
	oldLeaf, newLeaf := first.leaf(t), second.leaf(t)
	if newLeaf.Equal(oldLeaf) {
		t.Fatal("the re-render kept the certificate although the key algorithm changed")
	}
	if key, ok := newLeaf.PublicKey.(*ecdsa.PublicKey); !ok || key.Curve != elliptic.P384() {
		t.Errorf("rotated certificate key is %T, want ECDSA P-384", newLeaf.PublicKey)
	}
	_, _, oldCA := first.servingSecret(t)
	_, _, newCA := second.servingSecret(t)
	for _, name := range wardleAPIServices {
		bundle := testutil.ParseCerts(t, "caBundle of APIService "+name, second.caBundle(t, name))
		if len(bundle) != 2 {
			t.Fatalf("APIService %s: rotated caBundle holds %d certificates, want 2 (new CA, previous CA)", name, len(bundle))
		}
		if !bundle[0].Equal(testutil.ParseCerts(t, "the new CA", newCA)[0]) || !bundle[1].Equal(testutil.ParseCerts(t, "the old CA", oldCA)[0]) {
			t.Errorf("APIService %s: rotated caBundle is not [new ca.crt, previous ca.crt]", name)
		}
		// Both the old and the new certificate verify against it.
		roots := x509.NewCertPool()
		for _, c := range bundle {
			roots.AddCert(c)
		}
		for label, leaf := range map[string]*x509.Certificate{"previous": oldLeaf, "new": newLeaf} {
			if _, err := leaf.Verify(x509.VerifyOptions{DNSName: wardleServiceDNSName, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
				t.Errorf("APIService %s: the %s certificate does not verify against the rotated caBundle: %v", name, label, err)
			}
		}
	}
	hash := func(r *rendered) string {
		var d struct {
			Spec struct {
				Template struct {
					Metadata struct {
						Annotations map[string]string `json:"annotations"`
					} `json:"metadata"`
				} `json:"template"`
			} `json:"spec"`
		}
		r.object(t, "Deployment", wardleNamespace, wardleServiceAccount).decode(t, &d)
		return d.Spec.Template.Metadata.Annotations["aggapi.dev/serving-cert-sha256"]
	}
	if h1, h2 := hash(first), hash(second); h1 == "" || h1 == h2 {
		t.Errorf("pod template certificate hash %q → %q, want a change (so the pods roll)", h1, h2)
	}
}

// Step 4: the server.

// freeLoopbackPort picks a free port on 127.0.0.1 before rendering, so the
// APIServices can name it.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRenderedServer starts sample-apiserver on 127.0.0.1:port with the
// rendered Secret's certificate and key, authenticating with kubeconfig (the
// rendered ServiceAccount), and returns once it is ready to serve the
// aggregator; see waitServerReady.
func startRenderedServer(t *testing.T, cp *controlplane.ControlPlane, r *rendered, name string, port int, kubeconfig string, frontProxy controlplane.KeyPair) *controlplane.SampleAPIServer {
	t.Helper()
	certPEM, keyPEM, caPEM := r.servingSecret(t)
	// Not t.TempDir: the process outlives the subtest that starts it.
	dir := filepath.Join(cp.Dir, name+"-serving-cert")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := controlplane.KeyPair{CertPEM: certPEM, KeyPEM: keyPEM}.WriteFiles(dir, "tls")
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	// The harness waits for /healthz over TLS verified against the Secret's
	// ca.crt for <service>.<namespace>.svc.
	s, err := cp.StartSampleAPIServer(t.Context(), controlplane.SampleAPIServerOptions{
		Name:         name,
		Port:         port,
		EtcdPrefix:   wardleEtcdPrefix,
		Kubeconfig:   kubeconfig,
		TLSCertFile:  certFile,
		TLSKeyFile:   keyFile,
		ServingCAPEM: caPEM,
		ServerName:   wardleServiceDNSName,
	})
	if err != nil {
		t.Fatal(err)
	}
	healthy := time.Since(began)
	waitServerReady(t, r, s.URL, caPEM, frontProxy)
	t.Logf("%s on %s: /healthz after %v, ready after %v", name, s.URL, healthy.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	return s
}

// waitServerReady waits for what a kubelet and the aggregator would wait
// for. /healthz answers before the server is usable: for about 100 ms after
// it, /readyz still fails (informer-sync) and the request-header CA from
// kube-system/extension-apiserver-authentication is not loaded yet, so a
// request proxied by the aggregator is served as system:anonymous and
// forbidden. So wait until the rendered Deployment's readiness probe passes
// and until the server authenticates a request the way the aggregator sends
// it: with the front-proxy client certificate and X-Remote-* headers.
func waitServerReady(t *testing.T, r *rendered, url string, caPEM []byte, frontProxy controlplane.KeyPair) {
	t.Helper()
	var d struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						ReadinessProbe struct {
							HTTPGet struct {
								Path   string `json:"path"`
								Scheme string `json:"scheme"`
							} `json:"httpGet"`
						} `json:"readinessProbe"`
					} `json:"containers"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	r.object(t, "Deployment", wardleNamespace, wardleServiceAccount).decode(t, &d)
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("rendered Deployment has %d containers, want 1", len(d.Spec.Template.Spec.Containers))
	}
	probe := d.Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet
	if probe.Scheme != "HTTPS" || probe.Path == "" {
		t.Fatalf("rendered readiness probe %+v, want an HTTPS GET", probe)
	}
	// Like the kubelet, the probe presents no client certificate: one from
	// the front-proxy CA without X-Remote-User is rejected with 401.
	kubelet := tlsClientFor(t, caPEM, nil)
	aggregator := tlsClientFor(t, caPEM, &frontProxy)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err := controlplane.Poll(ctx, 50*time.Millisecond, func(ctx context.Context) (bool, error) {
		if err := (&controlplane.Client{BaseURL: url, HTTPClient: kubelet}).Get(ctx, probe.Path, new([]byte)); err != nil {
			return false, fmt.Errorf("readiness probe: %w", err)
		}
		return true, getAsFrontProxy(ctx, aggregator, url, "/apis/"+wardleGroup)
	})
	if err != nil {
		t.Fatalf("sample-apiserver at %s never became ready: %v", url, err)
	}
}

// getAsFrontProxy GETs path from the server at url as the aggregator sends a request:
// hc presents the front-proxy client certificate, the headers name a system:masters
// user. Anything but 200 is an error.
func getAsFrontProxy(ctx context.Context, hc *http.Client, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Remote-User", "aggapi-e2e-readiness")
	req.Header.Set("X-Remote-Group", "system:masters")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s as a front-proxy user: HTTP %d", path, resp.StatusCode)
	}
	return nil
}

// tlsClientFor returns an HTTP client that verifies the server for
// <service>.<namespace>.svc against caPEM and presents client, if not nil.
func tlsClientFor(t *testing.T, caPEM []byte, client *controlplane.KeyPair) *http.Client {
	t.Helper()
	hc, err := controlplane.NewTLSClient(caPEM, client)
	if err != nil {
		t.Fatal(err)
	}
	hc.Transport.(*http.Transport).TLSClientConfig.ServerName = wardleServiceDNSName
	return hc
}

func readKeyPair(t *testing.T, certFile, keyFile string) controlplane.KeyPair {
	t.Helper()
	var kp controlplane.KeyPair
	var err error
	if kp.CertPEM, err = os.ReadFile(certFile); err != nil {
		t.Fatal(err)
	}
	if kp.KeyPEM, err = os.ReadFile(keyFile); err != nil {
		t.Fatal(err)
	}
	return kp
}

// servedCertificate is the certificate the server on 127.0.0.1:port presents.
func servedCertificate(t *testing.T, port int) *x509.Certificate {
	t.Helper()
	dialer := &tls.Dialer{Config: &tls.Config{
		ServerName:         wardleServiceDNSName,
		InsecureSkipVerify: true, //nolint:gosec // reads the certificate only; loopback
	}}
	conn, err := dialer.DialContext(t.Context(), "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState().PeerCertificates[0]
}

// Step 5: the API.

// apiServiceAvailability returns the APIService's Available condition.
func apiServiceAvailability(t *testing.T, admin *controlplane.Client, name string) controlplane.APIServiceCondition {
	t.Helper()
	c, err := getAvailability(t.Context(), admin, name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func getAvailability(ctx context.Context, admin *controlplane.Client, name string) (controlplane.APIServiceCondition, error) {
	var svc struct {
		Status struct {
			Conditions []controlplane.APIServiceCondition `json:"conditions"`
		} `json:"status"`
	}
	if err := admin.Get(ctx, "/apis/apiregistration.k8s.io/v1/apiservices/"+name, &svc); err != nil {
		return controlplane.APIServiceCondition{}, err
	}
	for _, c := range svc.Status.Conditions {
		if c.Type == "Available" {
			return c, nil
		}
	}
	return controlplane.APIServiceCondition{Type: "Available", Status: "(none)"}, nil
}

// waitAvailableStatus waits until the APIService's Available condition
// has the given status and returns it.
func waitAvailableStatus(t *testing.T, admin *controlplane.Client, name, status string, timeout time.Duration) controlplane.APIServiceCondition {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	var last controlplane.APIServiceCondition
	err := controlplane.Poll(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		c, err := getAvailability(ctx, admin, name)
		last = c
		return err == nil && c.Status == status, err
	})
	if err != nil {
		t.Fatalf("APIService %s not Available=%s after %v: %v (last: %+v)", name, status, timeout, err, last)
	}
	return last
}

// waitProxied waits until the aggregator proxies every rendered version to
// the server. Available=True alone is not enough: the proxy learns of the
// condition from its own APIService informer, and for a few milliseconds
// after the status flips to True it still answers 503 "service unavailable".
func waitProxied(t *testing.T, admin *controlplane.Client, r *rendered) {
	t.Helper()
	began := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for _, name := range r.apiServiceNames() {
		var s apiServiceSpec
		r.object(t, "APIService", "", name).decode(t, &s)
		path := "/apis/" + s.Spec.Group + "/" + s.Spec.Version
		if err := controlplane.Poll(ctx, 20*time.Millisecond, func(ctx context.Context) (bool, error) {
			return true, admin.Get(ctx, path, nil)
		}); err != nil {
			t.Fatalf("the aggregator does not proxy %s: %v", path, err)
		}
	}
	t.Logf("the aggregator proxies every version %v later", time.Since(began).Round(time.Millisecond))
}

type flunder struct {
	APIVersion string `json:"apiVersion"`
	Metadata   struct {
		Name   string            `json:"name"`
		UID    string            `json:"uid"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
}

func flunderPath(version, name string) string {
	p := "/apis/" + wardleGroup + "/" + version + "/namespaces/" + flunderNamespace + "/flunders"
	if name != "" {
		p += "/" + name
	}
	return p
}

// getFlunder reads the test's Flunder through the aggregator.
func getFlunder(t *testing.T, c *controlplane.Client, version string) flunder {
	t.Helper()
	var f flunder
	if err := c.Get(t.Context(), flunderPath(version, flunderName), &f); err != nil {
		t.Fatalf("reading Flunder %s/%s through %s: %v", flunderNamespace, flunderName, version, err)
	}
	return f
}

// checkUserRoles binds users to the built-in view and edit ClusterRoles in
// the Flunder namespace and checks what they may do. The rules come only from
// the rendered <name>-view/-edit roles, folded in by kube-controller-manager;
// requests of users outside system:masters are also authorized by the
// sample-apiserver itself through a SubjectAccessReview, which needs the
// rendered auth-delegator binding.
func checkUserRoles(t *testing.T, cp *controlplane.ControlPlane, admin *controlplane.Client) {
	t.Helper()
	ctx := t.Context()
	user := func(name string) *controlplane.Client {
		t.Helper()
		kp, err := cp.CA.ClientCert(name)
		if err != nil {
			t.Fatal(err)
		}
		c, err := cp.ClientFor(controlplane.Credentials{ClientCertPEM: kp.CertPEM, ClientKeyPEM: kp.KeyPEM})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	viewer, editor, stranger := user("e2e-flunder-viewer"), user("e2e-flunder-editor"), user("e2e-stranger")
	for _, b := range []struct{ user, role string }{{"e2e-flunder-viewer", "view"}, {"e2e-flunder-editor", "edit"}} {
		binding := object("rbac.authorization.k8s.io/v1", "RoleBinding", flunderNamespace, b.user)
		binding["subjects"] = []any{map[string]any{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": b.user}}
		binding["roleRef"] = map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": b.role}
		mustCreate(t, admin, "/apis/rbac.authorization.k8s.io/v1/namespaces/"+flunderNamespace+"/rolebindings", binding)
	}

	// Aggregation is asynchronous: wait for the rendered rules in view and edit.
	for role, verb := range map[string]string{"view": "list", "edit": "create"} {
		waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := controlplane.Poll(waitCtx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
			var cr struct {
				Rules []struct {
					APIGroups []string `json:"apiGroups"`
					Resources []string `json:"resources"`
					Verbs     []string `json:"verbs"`
				} `json:"rules"`
			}
			if err := admin.Get(ctx, "/apis/rbac.authorization.k8s.io/v1/clusterroles/"+role, &cr); err != nil {
				return false, err
			}
			for _, r := range cr.Rules {
				if slices.Contains(r.APIGroups, wardleGroup) && slices.Contains(r.Resources, "flunders") && slices.Contains(r.Verbs, verb) {
					return true, nil
				}
			}
			return false, nil
		})
		cancel()
		if err != nil {
			t.Fatalf("ClusterRole %s never got %s on flunders from the rendered roles: %v", role, verb, err)
		}
	}

	// Without a binding: forbidden, so the permissions below come from view/edit.
	if err := stranger.Get(ctx, flunderPath("v1alpha1", ""), nil); !controlplane.IsStatus(err, http.StatusForbidden) {
		t.Errorf("listing flunders without any binding: %v, want HTTP 403", err)
	}
	// The RBAC authorizer's cache follows the ClusterRole with a small delay.
	listCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var list struct {
		Items []flunder `json:"items"`
	}
	if err := controlplane.Poll(listCtx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		return true, viewer.Get(ctx, flunderPath("v1alpha1", ""), &list)
	}); err != nil {
		t.Fatalf("listing flunders bound to view: %v", err)
	}
	if len(list.Items) != 1 || list.Items[0].Metadata.Name != flunderName {
		t.Errorf("flunders listed bound to view: %+v, want only %s", list.Items, flunderName)
	}
	newFlunder := func(name string) map[string]any {
		return object(wardleGroup+"/v1beta1", "Flunder", flunderNamespace, name)
	}
	err := viewer.Create(ctx, flunderPath("v1beta1", ""), newFlunder("by-viewer"), nil)
	if !controlplane.IsStatus(err, http.StatusForbidden) || !strings.Contains(err.Error(), `cannot create resource \"flunders\"`) {
		t.Errorf("creating a Flunder bound to view: %v, want HTTP 403 (cannot create flunders)", err)
	}
	if err := controlplane.Poll(listCtx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		err := editor.Create(ctx, flunderPath("v1beta1", ""), newFlunder("by-editor"), nil)
		return err == nil, err
	}); err != nil {
		t.Fatalf("creating a Flunder bound to edit: %v", err)
	}
	// And the viewer sees what the editor made.
	if err := viewer.Get(ctx, flunderPath("v1alpha1", "by-editor"), nil); err != nil {
		t.Errorf("reading the editor's Flunder bound to view: %v", err)
	}
	// The viewer may not delete it either (edit's delete comes from <name>-edit).
	if err := viewer.Do(ctx, http.MethodDelete, flunderPath("v1beta1", "by-editor"), nil, nil); !controlplane.IsStatus(err, http.StatusForbidden) {
		t.Errorf("deleting a Flunder bound to view: %v, want HTTP 403", err)
	}
	if err := editor.Do(ctx, http.MethodDelete, flunderPath("v1beta1", "by-editor"), nil, nil); err != nil {
		t.Errorf("deleting a Flunder bound to edit: %v", err)
	}
}
