//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/doctor"
	"github.com/aggapi/aggapi/internal/testutil"
	"github.com/aggapi/aggapi/test/e2e/controlplane"
)

const (
	zooAlpha = "v1alpha1.wardle.example.com"
	zooBeta  = "v1beta1.wardle.example.com"
)

// zoo is a healthy render of examples/kustomize/aggapi.yaml on a real control plane,
// with sample-apiserver behind it on loopback, that a test breaks one way at a time.
type zoo struct {
	aggapi       string
	cp           *controlplane.ControlPlane
	admin        *controlplane.Client
	items        []*yaml.RNode
	rendered     []byte
	renderedFile string
	port         int
	secret       map[string][]byte
}

// TestDoctorZoo is the fault zoo: from a healthy render, each subtest injects one
// cause that a control plane on loopback can reproduce, checks that `aggapi doctor
// -o json` names its cause id and fix, and repairs it. The healthy cluster has no
// error and no warning. Causes that need a cloud or a kubelet are tested on recorded
// condition messages (fn/doctor/testdata/recorded-conditions.yaml) and on fake
// clusters (fn/doctor/checks_test.go).
func TestDoctorZoo(t *testing.T) {
	z := startZoo(t)

	t.Run("healthy", func(t *testing.T) {
		for _, args := range [][]string{{"-f", z.renderedFile}, {}} {
			rep := z.doctor(t, 0, args...)
			for _, f := range rep.Findings {
				if f.Severity != "note" {
					t.Errorf("doctor %v: a finding on the healthy cluster: %+v", args, f)
				}
			}
			if len(rep.Passed) == 0 {
				t.Errorf("doctor %v: no passed check", args)
			}
		}
		// What each endpoint serves is checked, through the ExternalName's address.
		rep := z.doctor(t, 0, "-f", z.renderedFile)
		zooWantPassed(t, rep, "APIService "+zooAlpha+": served certificate", "which verifies against the live caBundle for api.wardle.svc")
		// The Secret the Deployment mounts is checked too: the Service keeps its selector.
		zooWantPassed(t, rep, "APIService "+zooAlpha+": serving certificate", "tls.crt for api.wardle.svc verifies against the live caBundle")
	})

	t.Run("x509-unknown-authority", func(t *testing.T) {
		wrong, err := controlplane.NewCA("e2e-zoo-wrong-ca")
		if err != nil {
			t.Fatal(err)
		}
		z.patchAPIService(t, zooAlpha, z.port, wrong.CertPEM)
		z.waitAvailable(t, zooAlpha, "False")
		rep := z.doctor(t, 1, "-f", z.renderedFile)
		zooWant(t, rep, "error", doctor.CauseX509UnknownAuthority, "APIService "+zooAlpha, "x509: certificate signed by unknown authority", "re-render and re-apply")
		zooWant(t, rep, "error", doctor.CauseCABundleMismatch, "APIService "+zooAlpha, `CA "e2e-zoo-wrong-ca"`, "kubectl apply -f "+z.renderedFile)
		zooWant(t, rep, "error", doctor.CauseEndpointServesOtherCert, "APIService "+zooAlpha+": served certificate", "does not verify against the live caBundle")
		z.repair(t)
	})

	t.Run("connection-refused", func(t *testing.T) {
		closed := freeLoopbackPort(t)
		z.patchAPIService(t, zooAlpha, closed, nil)
		z.waitAvailable(t, zooAlpha, "False")
		rep := z.doctor(t, 1, "-f", z.renderedFile)
		zooWant(t, rep, "error", doctor.CauseConnectionRefused, "APIService "+zooAlpha, fmt.Sprintf("dialed the Service's externalName 127.0.0.1:%d", closed), "targetPort")
		z.repair(t)
	})

	// A port that accepts and never answers is what a firewall that drops packets
	// looks like to the kube-apiserver: its discovery request times out.
	t.Run("control-plane-cannot-reach", func(t *testing.T) {
		hole := blackhole(t)
		z.patchAPIService(t, zooAlpha, hole, nil)
		cond := z.waitAvailable(t, zooAlpha, "False")
		t.Logf("condition: %+v", cond)
		rep := z.doctor(t, 1, "-f", z.renderedFile)
		f := zooWant(t, rep, "error", doctor.CauseControlPlaneCannotReach, "APIService "+zooAlpha,
			fmt.Sprintf("the kube-apiserver dialed the Service's externalName 127.0.0.1:%d", hole), fmt.Sprintf("TCP %d", hole))
		if !strings.Contains(f.AskProvider, fmt.Sprintf("TCP %d", hole)) {
			t.Errorf("the question to the provider names no port: %q", f.AskProvider)
		}
		z.repair(t)
	})

	t.Run("empty-discovery", func(t *testing.T) {
		stub := z.stubServer(t, http.StatusOK, false)
		z.patchAPIService(t, zooAlpha, stub, nil)
		// Available stays True: the stub answers the aggregator's discovery with 200.
		z.waitAvailable(t, zooAlpha, "True")
		rep := z.doctor(t, 0, "-f", z.renderedFile)
		zooWant(t, rep, "warning", doctor.CauseEmptyDiscovery, "APIService "+zooAlpha, "GET /apis/wardle.example.com/v1alpha1 lists no resources")
		for _, f := range rep.Findings {
			if f.Cause == doctor.CauseEmptyDiscovery && f.Object == "APIService "+zooBeta {
				t.Errorf("empty discovery on the served version: %+v", f)
			}
		}
		z.repair(t)
	})

	// Stub servers on loopback with the rendered certificate: the server is up, and
	// answers the aggregator's discovery with what a broken server answers.
	for _, tc := range []struct {
		cause  string
		status int
		plain  bool
		want   string
	}{
		{doctor.CauseGroupVersionNotServed, http.StatusNotFound, false, "HTTP 404"},
		{doctor.CauseServerUnhealthy, http.StatusServiceUnavailable, false, "HTTP 503"},
		{doctor.CausePlainHTTP, http.StatusOK, true, "the server speaks plain HTTP"},
	} {
		t.Run(tc.cause, func(t *testing.T) {
			z.patchAPIService(t, zooAlpha, z.stubServer(t, tc.status, tc.plain), nil)
			z.waitAvailable(t, zooAlpha, "False")
			rep := z.doctor(t, 1, "-f", z.renderedFile)
			zooWant(t, rep, "error", tc.cause, "APIService "+zooAlpha, tc.want)
			z.repair(t)
		})
	}

	t.Run("service-not-found", func(t *testing.T) {
		z.kubectl(t, nil, "-n", "wardle", "delete", "service", "api")
		z.waitAvailable(t, zooAlpha, "False")
		rep := z.doctor(t, 1, "-f", z.renderedFile)
		zooWant(t, rep, "error", doctor.CauseServiceNotFound, "APIService "+zooAlpha, "the Service wardle/api the APIService names does not exist")
		z.repair(t)
	})

	t.Run("namespace-stuck-terminating", func(t *testing.T) {
		z.patchAPIService(t, zooAlpha, freeLoopbackPort(t), nil)
		z.waitAvailable(t, zooAlpha, "False")
		z.kubectl(t, nil, "create", "namespace", "zoo-doomed")
		z.kubectl(t, nil, "delete", "namespace", "zoo-doomed", "--wait=false")
		z.waitNamespace(t, "zoo-doomed", func(ns zooNamespace) bool {
			for _, c := range ns.Status.Conditions {
				if c.Type == "NamespaceDeletionDiscoveryFailure" && c.Status == "True" {
					return true
				}
			}
			return false
		})
		rep := z.doctor(t, 1, "-f", z.renderedFile)
		zooWant(t, rep, "error", doctor.CauseNamespaceTerminates, "Namespace zoo-doomed", "blocked by unavailable APIService "+zooAlpha, "kubectl delete apiservice "+zooAlpha)
		// The fix the doctor prints works: with the APIService back, deletion ends.
		z.repair(t)
		z.waitNamespace(t, "zoo-doomed", func(ns zooNamespace) bool { return ns.gone })
	})

	t.Run("conflicting-provider", func(t *testing.T) {
		helm := zooFind(t, z.items, "APIService", "", zooAlpha).Copy()
		if err := helm.SetLabels(map[string]string{"app.kubernetes.io/managed-by": "Helm"}); err != nil {
			t.Fatal(err)
		}
		if err := helm.SetAnnotations(map[string]string{"meta.helm.sh/release-name": "wardle-chart", "meta.helm.sh/release-namespace": "wardle"}); err != nil {
			t.Fatal(err)
		}
		doctorSet(t, helm, yaml.NewScalarRNode(strconv.Itoa(z.port)), "spec", "service", "port")
		z.kubectl(t, nil, "delete", "apiservice", zooAlpha)
		z.kubectl(t, []byte(helm.MustString()), "apply", "--server-side", "--field-manager=helm", "-f", "-")
		z.waitAvailable(t, zooAlpha, "True")
		rep := z.doctor(t, 1, "-f", z.renderedFile)
		zooWant(t, rep, "error", doctor.CauseConflictingProvider, "APIService "+zooAlpha,
			"the manifests given are aggapi (config wardle)'s, but the live APIService is managed by Helm release wardle/wardle-chart",
			"keep one installer")
		// Without -f: the Service aggapi rendered and Helm's APIService disagree.
		rep = z.doctor(t, 1)
		zooWant(t, rep, "error", doctor.CauseConflictingProvider, "APIService "+zooAlpha, "managed by Helm release wardle/wardle-chart, but the Service it points at by aggapi (config wardle)")
		z.kubectl(t, nil, "delete", "apiservice", zooAlpha)
		z.repair(t)
	})

	t.Run("insecure-skip-tls-verify-with-cabundle", func(t *testing.T) {
		api := zooFind(t, z.items, "APIService", "", zooAlpha).Copy()
		yes := yaml.NewScalarRNode("true")
		yes.YNode().Tag = yaml.NodeTagBool
		doctorSet(t, api, yes, "spec", "insecureSkipTLSVerify")
		file := filepath.Join(z.cp.Dir, "zoo-insecure.yaml")
		if err := os.WriteFile(file, []byte(api.MustString()), 0o600); err != nil {
			t.Fatal(err)
		}
		rep := z.doctor(t, 1, "-f", file)
		zooWant(t, rep, "error", doctor.CauseInsecureSkipTLSVerifyCABundle, "APIService "+zooAlpha, "sets insecureSkipTLSVerify together with a caBundle")
		// The kube-apiserver agrees: it refuses the object.
		if out, err := z.cp.Kubectl(t.Context(), strings.NewReader(api.MustString()), "apply", "--dry-run=server", "-f", "-"); err == nil {
			t.Errorf("the kube-apiserver accepted insecureSkipTLSVerify with a caBundle:\n%s", out)
		}
	})

	// cert-manager's CRDs (from its Go module, as the oracle test installs them)
	// stand in for cert-manager: a Certificate that is not Ready, no cainjector, then
	// a cainjector that does not inject APIServices.
	t.Run("cert-manager", func(t *testing.T) {
		k := &oracleKubectl{bin: controlplane.RequireBinaries(t).Kubectl, kubeconfig: z.cp.Kubeconfig, cacheDir: filepath.Join(z.cp.Dir, "zoo-kubectl-cache-crds")}
		if !installCertManagerCRDs(t, k) {
			t.Skip("cert-manager's CRDs are not in the module cache (make e2e-tools)")
		}
		cert := `{"apiVersion":"cert-manager.io/v1","kind":"Certificate","metadata":{"namespace":"wardle","name":"zoo-cert"},` +
			`"spec":{"secretName":"zoo-cert","dnsNames":["api.wardle.svc"],"issuerRef":{"name":"zoo-issuer","kind":"Issuer"}}}`
		z.kubectl(t, []byte(cert), "apply", "-f", "-")
		z.kubectl(t, nil, "-n", "wardle", "patch", "certificate", "zoo-cert", "--subresource=status", "--type=merge", "-p",
			`{"status":{"conditions":[{"type":"Ready","status":"False","reason":"DoesNotExist","message":"Issuer zoo-issuer not found","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}`)
		z.kubectl(t, nil, "annotate", "apiservice", zooAlpha, "cert-manager.io/inject-ca-from=wardle/zoo-cert")
		z.kubectl(t, nil, "patch", "apiservice", zooAlpha, "--type=merge", "-p", `{"spec":{"caBundle":null}}`)
		z.waitAvailable(t, zooAlpha, "False")
		rep := z.doctor(t, 1, "-f", z.renderedFile)
		zooWant(t, rep, "error", doctor.CauseCertManagerNotReady, "APIService "+zooAlpha, "Certificate wardle/zoo-cert is not Ready (False DoesNotExist: Issuer zoo-issuer not found)")
		zooWant(t, rep, "error", doctor.CauseCertManagerNoCAInjector, "APIService "+zooAlpha, "no cert-manager cainjector Deployment runs")

		injector := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"namespace":"kube-system","name":"zoo-cainjector","labels":{"app.kubernetes.io/name":"cainjector"}},` +
			`"spec":{"selector":{"matchLabels":{"app":"zoo-cainjector"}},"template":{"metadata":{"labels":{"app":"zoo-cainjector"}},` +
			`"spec":{"containers":[{"name":"cainjector","image":"quay.io/jetstack/cert-manager-cainjector:v1.21.2","args":["--enable-apiservices-injectable=false"]}]}}}}`
		z.kubectl(t, []byte(injector), "apply", "-f", "-")
		rep = z.doctor(t, 1, "-f", z.renderedFile)
		zooWant(t, rep, "error", doctor.CauseCertManagerNotInjecting, "APIService "+zooAlpha, "cainjector kube-system/zoo-cainjector runs with --enable-apiservices-injectable=false")

		z.kubectl(t, nil, "-n", "kube-system", "delete", "deployment", "zoo-cainjector")
		z.kubectl(t, nil, "annotate", "apiservice", zooAlpha, "cert-manager.io/inject-ca-from-")
		z.repair(t)
	})

	// Last: the output exactly as rendered, a ClusterIP Service, on a control plane
	// without kubelets or the EndpointSlice controller: the Service has no endpoints,
	// and the Deployment, its pods (created by hand) and its RBAC are live.
	t.Run("as-rendered", func(t *testing.T) {
		var buf bytes.Buffer
		if err := (kio.ByteWriter{Writer: &buf}).Write(z.items); err != nil {
			t.Fatal(err)
		}
		asRendered := filepath.Join(z.cp.Dir, "zoo-as-rendered.yaml")
		if err := os.WriteFile(asRendered, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		z.kubectl(t, buf.Bytes(), "apply", "--server-side", "-f", "-")
		z.waitAvailable(t, zooAlpha, "False")

		t.Run("endpoints-not-found", func(t *testing.T) {
			rep := z.doctor(t, 1, "-f", asRendered)
			zooWant(t, rep, "error", doctor.CauseEndpointsNotFound, "APIService "+zooAlpha, "the Service wardle/api has no EndpointSlices")
			for _, f := range rep.Findings {
				if f.Cause == doctor.CauseServiceAccountRBAC || f.Cause == doctor.CauseTargetPortMismatch {
					t.Errorf("a false finding on the rendered RBAC and ports: %+v", f)
				}
			}
		})

		t.Run("pods-not-ready", func(t *testing.T) {
			dep := zooFind(t, z.items, "Deployment", "wardle", "wardle-apiserver")
			labels := dep.Field("spec").Value.Field("template").Value.Field("metadata").Value.Field("labels").Value.MustString()
			pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: wardle-apiserver-zoo\n  namespace: wardle\n  labels:\n" + indent(labels, "    ") +
				"spec:\n  serviceAccountName: wardle-apiserver\n  containers: [{name: apiserver, image: registry.k8s.io/e2e-test-images/sample-apiserver:1.29.2}]\n"
			z.kubectl(t, []byte(pod), "apply", "-f", "-")
			status := `{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"False"}],"containerStatuses":[{"name":"apiserver","image":"x","imageID":"","ready":false,"restartCount":4,` +
				`"state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off 1m20s restarting failed container"}},` +
				`"lastState":{"terminated":{"reason":"Error","exitCode":1,"startedAt":"2026-01-01T00:00:00Z","finishedAt":"2026-01-01T00:00:01Z"}}}]}}`
			z.kubectl(t, nil, "-n", "wardle", "patch", "pod", "wardle-apiserver-zoo", "--subresource=status", "--type=merge", "-p", status)
			rep := z.doctor(t, 1, "-f", asRendered)
			zooWant(t, rep, "error", doctor.CausePodsNotReady, "APIService "+zooAlpha, "pod wardle/wardle-apiserver-zoo", "waiting: CrashLoopBackOff", "last terminated: Error (exit 1)", "4 restart(s)")
			z.kubectl(t, nil, "-n", "wardle", "delete", "pod", "wardle-apiserver-zoo", "--grace-period=0", "--force")
		})

		t.Run("target-port-mismatch", func(t *testing.T) {
			z.kubectl(t, nil, "-n", "wardle", "patch", "service", "api", "--type=json", "-p", `[{"op":"replace","path":"/spec/ports/0/targetPort","value":9999}]`)
			rep := z.doctor(t, 1, "-f", asRendered)
			zooWant(t, rep, "error", doctor.CauseTargetPortMismatch, "APIService "+zooAlpha, "sends to pod port 9999, but Deployment wardle/wardle-apiserver listens on --secure-port=")
			z.kubectl(t, buf.Bytes(), "apply", "--server-side", "--force-conflicts", "-f", "-")
		})

		t.Run("serviceaccount-rbac-missing", func(t *testing.T) {
			rb := zooFindKind(t, z.items, "RoleBinding", "kube-system")
			z.kubectl(t, nil, "-n", "kube-system", "delete", "rolebinding", rb.GetName())
			rep := z.doctor(t, 1, "-f", asRendered)
			zooWant(t, rep, "error", doctor.CauseServiceAccountRBAC, "APIService "+zooAlpha,
				"ServiceAccount wardle/wardle-apiserver of Deployment wardle/wardle-apiserver may not: get configmaps kube-system/extension-apiserver-authentication",
				"extension-apiserver-authentication-reader")
			z.kubectl(t, buf.Bytes(), "apply", "--server-side", "--force-conflicts", "-f", "-")
			rep = z.doctor(t, 1, "-f", asRendered)
			for _, f := range rep.Findings {
				if f.Cause == doctor.CauseServiceAccountRBAC {
					t.Errorf("the binding is back, the finding stays: %+v", f)
				}
			}
		})
	})
}

// TestDoctorZooFrontProxy: the kube-apiserver's front-proxy client certificate's CN
// is not in requestheader-allowed-names, so sample-apiserver does not take the
// kube-aggregator's requests as proxied: its discovery check fails, and the doctor
// shows the allowed names beside the cause.
func TestDoctorZooFrontProxy(t *testing.T) {
	z := startZooWith(t, controlplane.Options{RequestHeaderAllowedNames: []string{"someone-else"}}, false)
	// Until the server is up the aggregator sees a refused connection; until its
	// request-header CA informer has synced, a 403 (the request is anonymous);
	// then, for good, its 401.
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	var cond controlplane.APIServiceCondition
	err := controlplane.Poll(ctx, 500*time.Millisecond, func(ctx context.Context) (bool, error) {
		cond = z.waitAvailable(t, zooAlpha, "False")
		return strings.Contains(cond.Message, "bad status from") && strings.HasSuffix(cond.Message, ": 401"), nil
	})
	if err != nil {
		t.Fatalf("%v (condition: %+v)", err, cond)
	}
	t.Logf("condition: %+v", cond)
	rep := z.doctor(t, 1, "-f", z.renderedFile)
	zooWant(t, rep, "error", doctor.CauseFrontProxyNotAllowed, "APIService "+zooAlpha, ": 401", "requestheader-allowed-names [someone-else]")
}

func startZoo(t *testing.T) *zoo {
	return startZooWith(t, zooOptions(), true)
}

func zooOptions() controlplane.Options { return controlplane.Options{} }

func startZooWith(t *testing.T, opts controlplane.Options, waitHealthy bool) *zoo {
	t.Helper()
	z := &zoo{aggapi: os.Getenv(zooAggapiEnv)}
	if z.aggapi == "" {
		z.aggapi = testutil.AggapiWithDoctor(t)
	}
	opts.DisableAggregatorRouting = true
	opts.StartControllerManager = true
	// The namespace controller, for namespaces stuck Terminating.
	opts.ControllerManagerExtraArgs = append(opts.ControllerManagerExtraArgs, "--controllers=clusterrole-aggregation-controller,namespace-controller")
	z.cp = controlplane.StartForTest(t, opts)
	var err error
	if z.admin, err = z.cp.AdminClient(); err != nil {
		t.Fatal(err)
	}
	z.port = freeLoopbackPort(t)
	z.items = doctorRender(t, z.aggapi)
	z.rendered = doctorLoopback(t, z.items, z.port, true) // the doctor finds the Deployment
	z.renderedFile = filepath.Join(z.cp.Dir, "zoo-rendered.yaml")
	if err := os.WriteFile(z.renderedFile, z.rendered, 0o600); err != nil {
		t.Fatal(err)
	}
	z.kubectl(t, z.rendered, "apply", "--server-side", "-f", "-")
	// The server runs as a process for the Deployment's one pod (there is no kubelet):
	// its status says so, as the deployment controller would.
	z.kubectl(t, nil, "-n", "wardle", "patch", "deployment", "wardle-apiserver", "--subresource=status", "--type=merge",
		"-p", `{"status":{"replicas":1,"readyReplicas":1,"availableReplicas":1,"updatedReplicas":1}}`)

	data := zooFind(t, z.items, "Secret", "wardle", "wardle-serving-cert").GetDataMap()
	z.secret = map[string][]byte{}
	for _, k := range []string{"tls.crt", "tls.key", "ca.crt"} {
		b, err := base64.StdEncoding.DecodeString(data[k])
		if err != nil || len(b) == 0 {
			t.Fatalf("rendered Secret %s: %v", k, err)
		}
		z.secret[k] = b
	}
	certDir := filepath.Join(z.cp.Dir, "zoo-serving-cert")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := controlplane.KeyPair{CertPEM: z.secret["tls.crt"], KeyPEM: z.secret["tls.key"]}.WriteFiles(certDir, "tls")
	if err != nil {
		t.Fatal(err)
	}
	token, err := z.cp.ServiceAccountToken(t.Context(), "wardle", "wardle-apiserver", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	saKubeconfig := filepath.Join(z.cp.Dir, "zoo-wardle-apiserver.kubeconfig")
	if err := z.cp.WriteKubeconfig(saKubeconfig, "system:serviceaccount:wardle:wardle-apiserver", controlplane.Credentials{Token: token}); err != nil {
		t.Fatal(err)
	}
	if _, err := z.cp.StartSampleAPIServer(t.Context(), controlplane.SampleAPIServerOptions{
		Name: "zoo-wardle", Port: z.port, Kubeconfig: saKubeconfig, TLSCertFile: certFile, TLSKeyFile: keyFile,
		ServingCAPEM: z.secret["ca.crt"], ServerName: "api.wardle.svc",
	}); err != nil {
		t.Fatal(err)
	}
	if waitHealthy {
		for _, name := range []string{zooAlpha, zooBeta} {
			z.waitAvailable(t, name, "True")
		}
	}
	return z
}

// doctor runs `aggapi doctor -o json` with args against the zoo and decodes its report.
func (z *zoo) doctor(t *testing.T, wantCode int, args ...string) doctor.Report {
	t.Helper()
	full := append([]string{"doctor", "--kubeconfig", z.cp.Kubeconfig, "--warn-within", "1h", "-o", "json"}, args...)
	out := doctorRun(t, z.aggapi, nil, nil, wantCode, full...)
	var rep doctor.Report
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("doctor -o json: %v\n%s", err, out)
	}
	if rep.ExitCode != wantCode {
		t.Errorf("report exitCode %d, want %d", rep.ExitCode, wantCode)
	}
	return rep
}

func zooWant(t *testing.T, rep doctor.Report, severity, cause, object string, subs ...string) doctor.Finding {
	t.Helper()
	for _, f := range rep.Findings {
		if f.Severity != severity || f.Cause != cause || f.Object != object {
			continue
		}
		all := f.Evidence + " | " + f.Fix + " | " + f.AskProvider
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(all, s)
		}
		if ok {
			return f
		}
	}
	var lines []string
	for _, f := range rep.Findings {
		lines = append(lines, fmt.Sprintf("%s [%s] %s: %s — fix: %s", f.Severity, f.Cause, f.Object, f.Evidence, f.Fix))
	}
	t.Errorf("no %s [%s] on %s with %q; findings:\n%s", severity, cause, object, subs, strings.Join(lines, "\n"))
	return doctor.Finding{}
}

func zooWantPassed(t *testing.T, rep doctor.Report, object, sub string) {
	t.Helper()
	for _, p := range rep.Passed {
		if p.Object == object && strings.Contains(p.Message, sub) {
			return
		}
	}
	t.Errorf("no passed check on %s with %q: %+v", object, sub, rep.Passed)
}

func (z *zoo) kubectl(t *testing.T, stdin []byte, args ...string) {
	t.Helper()
	var in io.Reader
	if stdin != nil {
		in = bytes.NewReader(stdin)
	}
	args = append([]string{"--cache-dir=" + filepath.Join(z.cp.Dir, "zoo-kubectl-cache")}, args...)
	if out, err := z.cp.Kubectl(t.Context(), in, args...); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// patchAPIService points name at 127.0.0.1:port (the ExternalName), with caBundle
// when given.
func (z *zoo) patchAPIService(t *testing.T, name string, port int, caBundle []byte) {
	t.Helper()
	patch := map[string]any{"spec": map[string]any{"service": map[string]any{"port": port}}}
	if caBundle != nil {
		patch["spec"].(map[string]any)["caBundle"] = base64.StdEncoding.EncodeToString(caBundle)
	}
	b, _ := json.Marshal(patch)
	z.kubectl(t, nil, "patch", "apiservice", name, "--type=merge", "-p", string(b))
}

// repair applies the render again and waits until both APIServices are Available.
func (z *zoo) repair(t *testing.T) {
	t.Helper()
	z.kubectl(t, z.rendered, "apply", "--server-side", "--force-conflicts", "-f", "-")
	for _, name := range []string{zooAlpha, zooBeta} {
		z.waitAvailable(t, name, "True")
	}
}

func (z *zoo) waitAvailable(t *testing.T, name, status string) controlplane.APIServiceCondition {
	t.Helper()
	return doctorWaitCondition(t, z.admin, name, status)
}

type zooNamespace struct {
	gone   bool
	Status struct {
		Phase      string `json:"phase"`
		Conditions []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"conditions"`
	} `json:"status"`
}

func (z *zoo) waitNamespace(t *testing.T, name string, cond func(zooNamespace) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	var last zooNamespace
	err := controlplane.Poll(ctx, 500*time.Millisecond, func(ctx context.Context) (bool, error) {
		last = zooNamespace{}
		err := z.admin.Get(ctx, "/api/v1/namespaces/"+name, &last)
		if controlplane.IsStatus(err, http.StatusNotFound) {
			last.gone = true
		} else if err != nil {
			return false, err
		}
		return cond(last), nil
	})
	if err != nil {
		t.Fatalf("namespace %s: %v (last: %+v)", name, err, last)
	}
}

// blackhole listens on loopback, accepts and never answers: to a client it is a
// peer whose packets a firewall drops after the handshake.
func blackhole(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// stubServer listens on loopback — over TLS with the rendered certificate, or plain
// HTTP — and answers every request with status; a 200 carries an APIResourceList
// without resources: a server that is up but serves nothing in its group/version.
func (z *zoo) stubServer(t *testing.T, status int, plain bool) int {
	t.Helper()
	var l net.Listener
	var err error
	if plain {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	} else {
		var cert tls.Certificate
		if cert, err = tls.X509KeyPair(z.secret["tls.crt"], z.secret["tls.key"]); err != nil {
			t.Fatal(err)
		}
		l, err = tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			gv := strings.TrimPrefix(r.URL.Path, "/apis/")
			fmt.Fprintf(w, `{"kind":"APIResourceList","apiVersion":"v1","groupVersion":%q,"resources":[]}`, gv)
		})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

func zooFind(t *testing.T, items []*yaml.RNode, kind, namespace, name string) *yaml.RNode {
	t.Helper()
	return doctorFind(t, items, kind, namespace, name)
}

func zooFindKind(t *testing.T, items []*yaml.RNode, kind, namespace string) *yaml.RNode {
	t.Helper()
	for _, n := range items {
		if n.GetKind() == kind && n.GetNamespace() == namespace {
			return n
		}
	}
	t.Fatalf("bin/aggapi rendered no %s in %s", kind, namespace)
	return nil
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}
