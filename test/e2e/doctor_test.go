//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/internal/testutil"
	"github.com/aggapi/aggapi/test/e2e/controlplane"
)

// TestDoctor runs `aggapi doctor` against a real control plane: healthy, then with
// an APIService whose caBundle is not the CA of the serving certificate, then
// repaired by re-applying the rendered manifests.
//
// Everything comes from bin/aggapi fed examples/kustomize/aggapi.yaml as a
// ResourceList; the test only adds the loopback plumbing (the Service becomes an
// ExternalName for 127.0.0.1, the APIServices dial the local port) and runs the
// sample-apiserver as a process with the rendered certificate and key, as the
// rendered ServiceAccount.
func TestDoctor(t *testing.T) {
	aggapi := testutil.AggapiWithDoctor(t)
	cp := controlplane.StartForTest(t, controlplane.Options{DisableAggregatorRouting: true})
	ctx := t.Context()
	admin, err := cp.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	port := freeLoopbackPort(t)

	// Render, make it reachable on loopback, apply as admin.
	items := doctorRender(t, aggapi)
	rendered := doctorLoopback(t, items, port, false)
	renderedFile := filepath.Join(cp.Dir, "doctor-rendered.yaml")
	if err := os.WriteFile(renderedFile, rendered, 0o600); err != nil {
		t.Fatal(err)
	}
	doctorApply(t, cp, rendered)

	// The server: the rendered Secret's certificate, the rendered ServiceAccount.
	secret := doctorFind(t, items, "Secret", "wardle", "wardle-serving-cert").GetDataMap()
	decode := func(k string) []byte {
		b, err := base64.StdEncoding.DecodeString(secret[k])
		if err != nil || len(b) == 0 {
			t.Fatalf("rendered Secret %s: %v", k, err)
		}
		return b
	}
	certDir := filepath.Join(cp.Dir, "doctor-serving-cert") // outlives t.TempDir's cleanup order
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := controlplane.KeyPair{CertPEM: decode("tls.crt"), KeyPEM: decode("tls.key")}.WriteFiles(certDir, "tls")
	if err != nil {
		t.Fatal(err)
	}
	token, err := cp.ServiceAccountToken(ctx, "wardle", "wardle-apiserver", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	saKubeconfig := filepath.Join(cp.Dir, "doctor-wardle-apiserver.kubeconfig")
	if err := cp.WriteKubeconfig(saKubeconfig, "system:serviceaccount:wardle:wardle-apiserver", controlplane.Credentials{Token: token}); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.StartSampleAPIServer(ctx, controlplane.SampleAPIServerOptions{
		Name:         "doctor-wardle",
		Port:         port,
		Kubeconfig:   saKubeconfig,
		TLSCertFile:  certFile,
		TLSKeyFile:   keyFile,
		ServingCAPEM: decode("ca.crt"),
		ServerName:   "api.wardle.svc",
	}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"v1alpha1.wardle.example.com", "v1beta1.wardle.example.com"} {
		if err := cp.WaitAPIServiceAvailable(ctx, name, 60*time.Second); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("healthy", func(t *testing.T) {
		// The harness's front-proxy CA lives 24h: a window below that keeps its warning out.
		out := doctorRun(t, aggapi, nil, nil, 0, "doctor", "-v", "-f", renderedFile, "--kubeconfig", cp.Kubeconfig, "--warn-within", "1h")
		doctorWant(t, out,
			"ok: APIService API: apiregistration.k8s.io/v1 serves apiservices (kube-apiserver v1.37.2)",
			"ok: permission: user "+controlplane.AdminUser+" may create apiservices.apiregistration.k8s.io",
			"ok: ConfigMap kube-system/extension-apiserver-authentication: requestheader-client-ca-file holds 1 CA(s)",
			"requestheader-allowed-names ["+controlplane.FrontProxyClientName+"]",
			"ok: APIService v1alpha1.wardle.example.com: Available (Passed: all checks passed) → Service wardle/api port "+strconv.Itoa(port),
			"ok: APIService v1beta1.wardle.example.com: Available (Passed: all checks passed)",
			"ok: APIService v1alpha1.wardle.example.com: caBundle matches "+renderedFile,
			"ok: APIService v1beta1.wardle.example.com: caBundle matches "+renderedFile,
			"note: APIService v1alpha1.wardle.example.com: serving certificate: Service wardle/api is an ExternalName (127.0.0.1)",
			"ok: APIService v1alpha1.wardle.example.com: served certificate: 127.0.0.1:"+strconv.Itoa(port)+` serves "`,
			": 0 failed, 0 warning(s)",
		)
		if strings.Contains(out, "FAIL") || strings.Contains(out, "warn:") {
			t.Errorf("a finding on a healthy setup:\n%s", out)
		}
		// Without -v only the findings and notes, most severe first, and the summary.
		out = doctorRun(t, aggapi, nil, nil, 0, "doctor", "-f", renderedFile, "--kubeconfig", cp.Kubeconfig, "--warn-within", "1h")
		if strings.Contains(out, "ok: ") || !strings.Contains(out, "passed (-v lists the passed checks)") {
			t.Errorf("the short report lists passed checks, or says nothing of them:\n%s", out)
		}
	})

	t.Run("KUBECONFIG, --context and stdin", func(t *testing.T) {
		out := doctorRun(t, aggapi, rendered, []string{"KUBECONFIG=" + cp.Kubeconfig}, 0, "doctor", "-v", "--context", "e2e", "-f", "-")
		doctorWant(t, out, "ok: APIService v1alpha1.wardle.example.com: caBundle matches stdin", ": 0 failed",
			// The default --warn-within (720h) covers the harness's 24h front-proxy CA.
			`warn: ConfigMap kube-system/extension-apiserver-authentication: the request-header CA "aggapi-e2e-front-proxy-ca" expires `)
		out = doctorRun(t, aggapi, nil, []string{"KUBECONFIG=" + cp.Kubeconfig}, 1, "doctor", "--context", "no-such-context", "-f", renderedFile)
		doctorWant(t, out, "FAIL: kubeconfig: ", `"no-such-context"`)
	})

	t.Run("config", func(t *testing.T) {
		root := testutil.Root(t)
		out := doctorRun(t, aggapi, nil, nil, 0, "doctor", "-v", "--config", filepath.Join(root, "examples", "kustomize", "aggapi.yaml"), "--kubeconfig", cp.Kubeconfig)
		doctorWant(t, out,
			"ok: APIService v1beta1.wardle.example.com: Available",
			// The config says port 443; the test pointed the APIServices at the local port.
			"warn: APIService v1alpha1.wardle.example.com: points at Service wardle/api port "+strconv.Itoa(port)+", but ",
		)
	})

	t.Run("not allowed", func(t *testing.T) {
		// The server's own identity may read the request-header CA, nothing about APIServices.
		out := doctorRun(t, aggapi, nil, nil, 1, "doctor", "-v", "-f", renderedFile, "--kubeconfig", saKubeconfig)
		doctorWant(t, out,
			"FAIL: permission: user system:serviceaccount:wardle:wardle-apiserver may not create apiservices.apiregistration.k8s.io",
			"ok: ConfigMap kube-system/extension-apiserver-authentication",
			"FAIL: APIService v1alpha1.wardle.example.com: cannot read it: ",
		)
	})

	t.Run("wrong caBundle", func(t *testing.T) {
		wrong, err := controlplane.NewCA("e2e-doctor-wrong-ca")
		if err != nil {
			t.Fatal(err)
		}
		api := doctorFind(t, items, "APIService", "", "v1alpha1.wardle.example.com").Copy()
		doctorSet(t, api, yaml.NewScalarRNode(strconv.Itoa(port)), "spec", "service", "port")
		doctorSet(t, api, yaml.NewStringRNode(base64.StdEncoding.EncodeToString(wrong.CertPEM)), "spec", "caBundle")
		doctorApply(t, cp, []byte(api.MustString()))
		cond := doctorWaitCondition(t, admin, "v1alpha1.wardle.example.com", "False")
		if cond.Reason != "FailedDiscoveryCheck" || !strings.Contains(cond.Message, "x509") {
			t.Fatalf("Available condition %+v, want FailedDiscoveryCheck with x509", cond)
		}
		out := doctorRun(t, aggapi, nil, nil, 1, "doctor", "-v", "-f", renderedFile, "--kubeconfig", cp.Kubeconfig, "--warn-within", "1h")
		doctorWant(t, out,
			"FAIL: APIService v1alpha1.wardle.example.com: Available=False (FailedDiscoveryCheck): ",
			"x509: certificate signed by unknown authority",
			"likely cause: x509: the caBundle does not match the CA of the serving certificate — fix: re-render and re-apply so the Secret and every caBundle come from one render",
			`FAIL: APIService v1alpha1.wardle.example.com: the live caBundle (CA "e2e-doctor-wrong-ca"`,
			"differs from the one in "+renderedFile,
			"field manager(s) of the live caBundle: kubectl (Apply)",
			"— fix: apply the rendered manifests (kubectl apply -f "+renderedFile+")",
			"ok: APIService v1beta1.wardle.example.com: Available",
			"ok: ConfigMap kube-system/extension-apiserver-authentication: requestheader-client-ca-file",
			": 3 failed, 0 warning(s)",
		)
		// The findings come first, most severe first.
		if first := strings.SplitN(out, "\n", 2)[0]; !strings.HasPrefix(first, "FAIL: ") {
			t.Errorf("the report does not start with the most severe finding: %q", first)
		}

		// The fix the doctor prints works.
		doctorApply(t, cp, rendered)
		doctorWaitCondition(t, admin, "v1alpha1.wardle.example.com", "True")
		out = doctorRun(t, aggapi, nil, nil, 0, "doctor", "-v", "-f", renderedFile, "--kubeconfig", cp.Kubeconfig)
		doctorWant(t, out, "ok: APIService v1alpha1.wardle.example.com: caBundle matches", ": 0 failed")
	})

	// Last, as it takes the loopback plumbing away: the output exactly as rendered (a
	// ClusterIP Service on port 443) on a control plane without kubelets or the
	// EndpointSlice controller. No pod is behind the Service, but the Deployment and
	// the Secret it mounts are live, so the serving certificate is checked.
	t.Run("as rendered, no pods", func(t *testing.T) {
		var buf bytes.Buffer
		if err := (kio.ByteWriter{Writer: &buf}).Write(items); err != nil {
			t.Fatal(err)
		}
		asRendered := filepath.Join(cp.Dir, "doctor-as-rendered.yaml")
		if err := os.WriteFile(asRendered, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		doctorApply(t, cp, buf.Bytes())
		cond := doctorWaitCondition(t, admin, "v1alpha1.wardle.example.com", "False")
		if cond.Reason != "EndpointsNotFound" {
			t.Fatalf("Available condition %+v, want EndpointsNotFound", cond)
		}
		doctorWaitCondition(t, admin, "v1beta1.wardle.example.com", "False")
		out := doctorRun(t, aggapi, nil, nil, 1, "doctor", "-v", "-f", asRendered, "--kubeconfig", cp.Kubeconfig, "--warn-within", "1h")
		doctorWant(t, out,
			`FAIL: APIService v1alpha1.wardle.example.com: Available=False (EndpointsNotFound): cannot find endpointslices for service/api in "wardle"; likely cause: the Service wardle/api has no EndpointSlices — fix: `,
			"ok: APIService v1alpha1.wardle.example.com: caBundle matches "+asRendered,
			"ok: APIService v1alpha1.wardle.example.com: serving certificate: Secret wardle/wardle-serving-cert (mounted by Deployment wardle/wardle-apiserver): tls.crt for api.wardle.svc verifies against the live caBundle; expires ",
			"ok: APIService v1beta1.wardle.example.com: serving certificate: Secret wardle/wardle-serving-cert",
			// No kube-controller-manager, so no Deployment status.
			"warn: APIService v1alpha1.wardle.example.com: serving certificate: Deployment wardle/wardle-apiserver has 0 of 1 replica(s) ready",
			": 2 failed, 2 warning(s)",
		)
	})
}

// doctorRender runs bin/aggapi on a ResourceList whose functionConfig is
// examples/kustomize/aggapi.yaml and returns the rendered objects.
func doctorRender(t *testing.T, aggapi string) []*yaml.RNode {
	t.Helper()
	root := testutil.Root(t)
	cfg, err := os.ReadFile(filepath.Join(root, "examples", "kustomize", "aggapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fnConfig, err := yaml.Parse(string(cfg))
	if err != nil {
		t.Fatal(err)
	}
	var in bytes.Buffer
	w := kio.ByteWriter{Writer: &in, FunctionConfig: fnConfig, WrappingKind: kio.ResourceListKind, WrappingAPIVersion: kio.ResourceListAPIVersion}
	if err := w.Write(nil); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(t.Context(), aggapi)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = &in, &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("bin/aggapi: %v\n%s", err, &errOut)
	}
	items, err := (&kio.ByteReader{Reader: &out, OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// doctorLoopback returns the rendered objects as multi-document YAML, with the
// Service turned into an ExternalName for 127.0.0.1 and the APIServices dialing
// port: the aggregator then reaches the local server and still verifies its
// certificate for api.wardle.svc against the caBundle. keepSelector keeps the
// Service's selector and ports (the doctor then finds the Deployment behind it);
// without it the Service's spec is the ExternalName alone.
func doctorLoopback(t *testing.T, items []*yaml.RNode, port int, keepSelector bool) []byte {
	t.Helper()
	var out []*yaml.RNode
	for _, it := range items {
		n := it.Copy()
		switch {
		case n.GetKind() == "Service" && n.GetNamespace() == "wardle" && n.GetName() == "api":
			if !keepSelector {
				doctorSet(t, n, yaml.NewMapRNode(&map[string]string{}), "spec")
			}
			doctorSet(t, n, yaml.NewScalarRNode("ExternalName"), "spec", "type")
			doctorSet(t, n, yaml.NewScalarRNode("127.0.0.1"), "spec", "externalName")
		case n.GetKind() == "APIService":
			doctorSet(t, n, yaml.NewScalarRNode(strconv.Itoa(port)), "spec", "service", "port")
		}
		out = append(out, n)
	}
	var buf bytes.Buffer
	if err := (kio.ByteWriter{Writer: &buf}).Write(out); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func doctorSet(t *testing.T, n, value *yaml.RNode, path ...string) {
	t.Helper()
	if err := n.SetMapField(value, path...); err != nil {
		t.Fatalf("setting %s on %s %s: %v", strings.Join(path, "."), n.GetKind(), n.GetName(), err)
	}
}

func doctorFind(t *testing.T, items []*yaml.RNode, kind, namespace, name string) *yaml.RNode {
	t.Helper()
	for _, n := range items {
		if n.GetKind() == kind && n.GetNamespace() == namespace && n.GetName() == name {
			return n
		}
	}
	t.Fatalf("bin/aggapi rendered no %s %s/%s", kind, namespace, name)
	return nil
}

func doctorApply(t *testing.T, cp *controlplane.ControlPlane, manifests []byte) {
	t.Helper()
	if out, err := cp.Kubectl(t.Context(), bytes.NewReader(manifests), "--cache-dir="+filepath.Join(cp.Dir, "doctor-kubectl-cache"), "apply", "--server-side", "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// doctorRun runs bin/aggapi with args and checks its exit status. The environment
// has no $KUBECONFIG and an empty $HOME unless env sets them: only the flags and
// env given find the cluster.
func doctorRun(t *testing.T, aggapi string, stdin []byte, env []string, wantCode int, args ...string) string {
	t.Helper()
	cmd := testutil.Cmd{Stdin: stdin}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "KUBECONFIG=") && !strings.HasPrefix(e, "HOME=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(append(cmd.Env, "HOME="+t.TempDir()), env...)
	r := cmd.Run(t, aggapi, args...)
	code := r.ExitCode()
	if code < 0 {
		t.Fatalf("aggapi %s: %v", strings.Join(args, " "), r.Err)
	}
	t.Logf("aggapi %s: exit %d\n%s", strings.Join(args, " "), code, r.Output())
	if code != wantCode {
		t.Errorf("aggapi %s: exit status %d, want %d", strings.Join(args, " "), code, wantCode)
	}
	return string(r.Stdout)
}

func doctorWant(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
}

// doctorWaitCondition waits until the APIService's Available condition has status.
func doctorWaitCondition(t *testing.T, admin *controlplane.Client, name, status string) controlplane.APIServiceCondition {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var last controlplane.APIServiceCondition
	err := controlplane.Poll(ctx, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		var api struct {
			Status struct {
				Conditions []controlplane.APIServiceCondition `json:"conditions"`
			} `json:"status"`
		}
		if err := admin.Get(ctx, "/apis/apiregistration.k8s.io/v1/apiservices/"+name, &api); err != nil {
			return false, err
		}
		for _, c := range api.Status.Conditions {
			if c.Type == "Available" {
				last = c
				return c.Status == status, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("APIService %s never Available=%s: %v (last: %+v)", name, status, err, last)
	}
	return last
}
