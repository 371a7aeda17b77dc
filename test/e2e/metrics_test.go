//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aggapi/aggapi/internal/testutil"
	"github.com/aggapi/aggapi/test/e2e/controlplane"
)

// The servers below were written by others (sigs.k8s.io/metrics-server and
// the test adapter of sigs.k8s.io/custom-metrics-apiserver, built by
// hack/e2e/install.sh). Each runs as a local process with exactly what a pod
// of the rendered Deployment would get: the rendered container args (paths
// and the port made local), the rendered Secret's certificate, and a token
// of the rendered ServiceAccount, which only the rendered RBAC authorises.

// The examples the tests render, relative to the repository root: each a
// kustomize transformer form (aggapi.yaml over the committed rendered.yaml),
// built as a user would, through an overlay that only adds loopback routing.
const (
	metricsServerExample        = "examples/metrics-server/kustomize"
	customMetricsAdapterExample = "examples/custom-metrics-adapter/kustomize"
)

// TestMetricsServerBehindRender runs metrics-server v0.8.0 behind the
// rendered output: v1beta1.metrics.k8s.io becomes Available and the node
// metrics list answers (empty: there are no nodes, hence no kubelets to
// scrape, and metrics-server starts anyway).
func TestMetricsServerBehindRender(t *testing.T) {
	binary := controlplane.RequireBinary(t, controlplane.MetricsServerBinary)
	env := startRenderEnv(t)

	port := freeLoopbackPort(t)
	r := env.render(t, metricsServerExample, port)
	srv := r.server(t)
	if srv.namespace != "kube-system" {
		t.Errorf("metrics-server renders into namespace %q, want kube-system", srv.namespace)
	}
	env.apply(t, r)

	env.start(t, r, srv, binary, port, func(kubeconfig string) []string {
		// --kubeconfig is what metrics-server uses for its informers and
		// kubelet client (in a pod: the in-cluster config).
		return []string{"--kubeconfig=" + kubeconfig}
	}, "metrics.k8s.io")

	names := r.apiServiceNames()
	if !slices.Contains(names, "v1beta1.metrics.k8s.io") {
		t.Fatalf("rendered APIServices %v, want v1beta1.metrics.k8s.io", names)
	}
	for _, name := range names {
		waitAvailableStatus(t, env.admin, name, "True", time.Minute)
	}
	waitProxied(t, env.admin, r)

	var list struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
		Items      []any  `json:"items"`
	}
	if err := env.admin.Get(t.Context(), "/apis/metrics.k8s.io/v1beta1/nodes", &list); err != nil {
		t.Fatalf("GET /apis/metrics.k8s.io/v1beta1/nodes: %v", err)
	}
	if list.Kind != "NodeMetricsList" || list.APIVersion != "metrics.k8s.io/v1beta1" || len(list.Items) != 0 {
		t.Errorf("GET /apis/metrics.k8s.io/v1beta1/nodes: kind %q, apiVersion %q, %d items; want an empty NodeMetricsList (no nodes)",
			list.Kind, list.APIVersion, len(list.Items))
	}
	t.Logf("/apis/metrics.k8s.io/v1beta1/nodes: %s %s with %d items", list.APIVersion, list.Kind, len(list.Items))

	// A user bound to the rendered view role in a namespace reads its pod
	// metrics (none: no pods run); without the binding, nothing.
	const namespace = "e2e-pod-metrics"
	viewRole := r.viewRole(t)
	viewer := env.bindViewer(t, namespace, "e2e-pod-metrics-viewer", viewRole)
	podsPath := "/apis/metrics.k8s.io/v1beta1/namespaces/" + namespace + "/pods"
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	// The RBAC authorizer follows a new binding with a small delay.
	if err := controlplane.Poll(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		return true, viewer.Get(ctx, podsPath, &list)
	}); err != nil {
		t.Fatalf("GET %s bound to %s: %v", podsPath, viewRole, err)
	}
	if list.Kind != "PodMetricsList" || len(list.Items) != 0 {
		t.Errorf("GET %s bound to %s: kind %q with %d items, want an empty PodMetricsList", podsPath, viewRole, list.Kind, len(list.Items))
	}
	if err := env.user(t, "e2e-stranger").Get(t.Context(), podsPath, nil); !controlplane.IsStatus(err, http.StatusForbidden) {
		t.Errorf("GET %s without a binding: %v, want HTTP 403", podsPath, err)
	}
	// The API is read-only: the view role grants no write, so kube-apiserver
	// refuses (403) what metrics-server itself would refuse otherwise (405).
	for _, method := range []string{http.MethodPost, http.MethodDelete} {
		if err := viewer.Do(t.Context(), method, podsPath, []byte(`{}`), nil); !controlplane.IsStatus(err, http.StatusForbidden) {
			t.Errorf("%s %s bound to %s: %v, want HTTP 403", method, podsPath, viewRole, err)
		}
		if err := env.admin.Do(t.Context(), method, podsPath, []byte(`{}`), nil); err == nil || controlplane.IsStatus(err, http.StatusForbidden) {
			t.Errorf("%s %s as admin: %v, want metrics-server's own refusal (not 403, not success)", method, podsPath, err)
		}
	}
}

// TestCustomMetricsAdapterBehindRender runs the custom-metrics test adapter
// v1.37.0 behind one render serving custom.metrics.k8s.io and
// external.metrics.k8s.io: every APIService is Available from the one
// server, both groups' discovery answers, and a user bound to the rendered
// view role reads metrics but may not write.
func TestCustomMetricsAdapterBehindRender(t *testing.T) {
	binary := controlplane.RequireBinary(t, controlplane.CustomMetricsAdapterBinary)
	// Upstream's main serves its metric-writing endpoint on :8080, fixed.
	checkPortFree(t, controlplane.CustomMetricsAdapterWritePort)
	env := startRenderEnv(t)

	port := freeLoopbackPort(t)
	// The example with a TLS policy: the function passes it as --tls-min-version.
	r := env.renderEdited(t, customMetricsAdapterExample, port, func(config []byte) []byte {
		return []byte(strings.Replace(string(config), "\n  server:\n", "\n  server:\n    tls: {minVersion: VersionTLS13}\n", 1))
	})
	srv := r.server(t)
	if !slices.Contains(srv.args, "--tls-min-version=VersionTLS13") {
		t.Fatalf("rendered args %q lack --tls-min-version=VersionTLS13", srv.args)
	}
	env.apply(t, r)

	env.start(t, r, srv, binary, port, func(kubeconfig string) []string {
		// The adapter reads objects and discovery with --lister-kubeconfig
		// (in a pod: the in-cluster config).
		return []string{"--lister-kubeconfig=" + kubeconfig}
	}, "custom.metrics.k8s.io", "external.metrics.k8s.io")

	// Every APIService of both groups, from the one server.
	groups := map[string][]string{}
	for _, name := range r.apiServiceNames() {
		var s apiServiceSpec
		r.object(t, "APIService", "", name).decode(t, &s)
		groups[s.Spec.Group] = append(groups[s.Spec.Group], s.Spec.Version)
		if s.Spec.Service.Namespace != srv.namespace || s.Spec.Service.Name != srv.service || s.Spec.Service.Port != port {
			t.Errorf("APIService %s routes to %+v, want the one server's Service %s/%s", name, s.Spec.Service, srv.namespace, srv.service)
		}
	}
	for _, g := range []string{"custom.metrics.k8s.io", "external.metrics.k8s.io"} {
		if len(groups[g]) == 0 {
			t.Fatalf("no APIService for %s in the render (groups: %v)", g, groups)
		}
	}
	for _, name := range r.apiServiceNames() {
		waitAvailableStatus(t, env.admin, name, "True", time.Minute)
	}
	waitProxied(t, env.admin, r)

	// Both discovery documents answer, listing what the adapter serves.
	for group, versions := range groups {
		var g struct {
			Kind     string `json:"kind"`
			Name     string `json:"name"`
			Versions []struct {
				Version string `json:"version"`
			} `json:"versions"`
		}
		if err := env.admin.Get(t.Context(), "/apis/"+group, &g); err != nil {
			t.Fatalf("discovery of %s: %v", group, err)
		}
		if g.Kind != "APIGroup" || g.Name != group {
			t.Errorf("GET /apis/%s: kind %q name %q, want the APIGroup %s", group, g.Kind, g.Name, group)
		}
		for _, v := range versions {
			var list struct {
				Kind         string `json:"kind"`
				GroupVersion string `json:"groupVersion"`
			}
			if err := env.admin.Get(t.Context(), "/apis/"+group+"/"+v, &list); err != nil {
				t.Fatalf("discovery of %s/%s: %v", group, v, err)
			}
			if list.Kind != "APIResourceList" || list.GroupVersion != group+"/"+v {
				t.Errorf("GET /apis/%s/%s: kind %q groupVersion %q, want an APIResourceList", group, v, list.Kind, list.GroupVersion)
			}
		}
	}

	checkMetricsViewer(t, env, r, groups)
	checkTLSPolicy(t, r, srv, port)
}

// checkTLSPolicy: the server started with the rendered args holds the rendered TLS
// policy (minimum TLS 1.3): a TLS 1.2 client is refused, a TLS 1.3 one served.
func checkTLSPolicy(t *testing.T, r *rendered, s renderedServer, port int) {
	t.Helper()
	var secret struct {
		Data map[string][]byte `json:"data"`
	}
	r.object(t, "Secret", s.namespace, s.secret).decode(t, &secret)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(secret.Data["ca.crt"]) {
		t.Fatal("the rendered Secret's ca.crt holds no certificate")
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for _, c := range []struct {
		version uint16
		ok      bool
	}{{tls.VersionTLS12, false}, {tls.VersionTLS13, true}} {
		d := &tls.Dialer{Config: &tls.Config{RootCAs: pool, ServerName: s.dnsName(), MinVersion: c.version, MaxVersion: c.version}}
		conn, err := d.DialContext(t.Context(), "tcp", addr)
		if err == nil {
			_ = conn.Close()
		}
		if (err == nil) != c.ok {
			t.Errorf("a client speaking only %s: handshake error %v, want ok=%v", tls.VersionName(c.version), err, c.ok)
		}
	}
}

// checkMetricsViewer binds a user to the rendered view role (the ClusterRole
// labelled aggregate-to-view) in one namespace, writes a custom metric
// through the adapter's own endpoint, and checks that the user reads it and
// an external metric through the aggregator, is refused writes, and that a
// user without the binding reads nothing.
func checkMetricsViewer(t *testing.T, env *renderEnv, r *rendered, groups map[string][]string) {
	t.Helper()
	ctx := t.Context()
	const (
		namespace = "e2e-metrics"
		pod       = "web-0"
		metric    = "requests-per-second"
	)
	customVersion := slices.Max(groups["custom.metrics.k8s.io"])
	externalVersion := slices.Max(groups["external.metrics.k8s.io"])
	viewRole := r.viewRole(t)
	viewer := env.bindViewer(t, namespace, "e2e-metrics-viewer", viewRole)
	stranger := env.user(t, "e2e-stranger")

	// The adapter keeps written values in memory; its REST mapper comes from
	// discovery, which it loads in the background, so write until it reads back.
	write := func(ctx context.Context) error {
		return controlplane.WriteCustomMetric(ctx, "127.0.0.1", namespace, pod, metric, "42")
	}
	customPath := fmt.Sprintf("/apis/custom.metrics.k8s.io/%s/namespaces/%s/pods/%s/%s", customVersion, namespace, pod, metric)
	type metricValue struct {
		DescribedObject struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"describedObject"`
		Metric struct {
			Name string `json:"name"`
		} `json:"metric"`
		MetricName string `json:"metricName"` // v1beta1
		Value      string `json:"value"`
	}
	var got struct {
		Kind  string        `json:"kind"`
		Items []metricValue `json:"items"`
	}
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var readErr error
	err := controlplane.Poll(waitCtx, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		if err := write(ctx); err != nil {
			return false, err
		}
		// The RBAC authorizer follows the new binding with a small delay too.
		readErr = viewer.Get(ctx, customPath, &got)
		return readErr == nil, nil
	})
	if err != nil {
		t.Fatalf("reading the custom metric bound to %s: %v (last read: %v)", viewRole, err, readErr)
	}
	if got.Kind != "MetricValueList" || len(got.Items) != 1 || got.Items[0].Value != "42" || got.Items[0].DescribedObject.Name != pod ||
		(got.Items[0].Metric.Name != metric && got.Items[0].MetricName != metric) {
		t.Errorf("GET %s bound to %s: %+v, want one MetricValue 42 for pod %s", customPath, viewRole, got, pod)
	}
	t.Logf("bound to %s, GET %s: %s = %s", viewRole, customPath, metric, got.Items[0].Value)

	// The test adapter's fixed external metric.
	externalPath := fmt.Sprintf("/apis/external.metrics.k8s.io/%s/namespaces/%s/my-external-metric?labelSelector=foo%%3Dbar", externalVersion, namespace)
	var external struct {
		Kind  string `json:"kind"`
		Items []struct {
			MetricName string `json:"metricName"`
			Value      string `json:"value"`
		} `json:"items"`
	}
	if err := viewer.Get(ctx, externalPath, &external); err != nil {
		t.Fatalf("reading an external metric bound to %s: %v", viewRole, err)
	}
	if external.Kind != "ExternalMetricValueList" || len(external.Items) != 1 || external.Items[0].Value != "42" {
		t.Errorf("GET %s: %+v, want one value 42", externalPath, external)
	}

	// Writes are refused by kube-apiserver's authorizer (403) before the
	// adapter, which serves no writes at all, would answer 405 as it does
	// for the admin.
	for _, w := range []struct{ method, path string }{
		{http.MethodPost, fmt.Sprintf("/apis/custom.metrics.k8s.io/%s/namespaces/%s/pods/%s/%s", customVersion, namespace, pod, metric)},
		{http.MethodDelete, customPath},
		{http.MethodPost, fmt.Sprintf("/apis/external.metrics.k8s.io/%s/namespaces/%s/my-external-metric", externalVersion, namespace)},
	} {
		err := viewer.Do(ctx, w.method, w.path, []byte(`{}`), nil)
		if !controlplane.IsStatus(err, http.StatusForbidden) {
			t.Errorf("%s %s bound to %s: %v, want HTTP 403", w.method, w.path, viewRole, err)
		}
		if err := env.admin.Do(ctx, w.method, w.path, []byte(`{}`), nil); controlplane.IsStatus(err, http.StatusForbidden) || err == nil {
			t.Errorf("%s %s as admin: %v, want the adapter's own refusal (not 403, not success)", w.method, w.path, err)
		}
	}
	// Without the binding nothing is readable: the reads above come from the view role.
	if err := stranger.Get(ctx, customPath, nil); !controlplane.IsStatus(err, http.StatusForbidden) {
		t.Errorf("GET %s without a binding: %v, want HTTP 403", customPath, err)
	}
}

// renderEnv is a control plane with aggregator routing to loopback, the
// pinned kustomize and bin/aggapi.
type renderEnv struct {
	cp         *controlplane.ControlPlane
	admin      *controlplane.Client
	kubectl    *kubectlRunner
	aggapi     string
	kustomize  string
	work       string
	frontProxy controlplane.KeyPair
}

func startRenderEnv(t *testing.T) *renderEnv {
	t.Helper()
	binaries := controlplane.RequireBinaries(t)
	env := &renderEnv{aggapi: testutil.Aggapi(t), kustomize: testutil.Kustomize(t), work: t.TempDir()}
	began := time.Now()
	env.cp = controlplane.StartForTest(t, controlplane.Options{
		Binaries: binaries,
		// Endpoint routing cannot reach loopback; see the controlplane package doc.
		DisableAggregatorRouting: true,
	})
	t.Logf("control plane ready in %v", time.Since(began).Round(time.Millisecond))
	var err error
	if env.admin, err = env.cp.AdminClient(); err != nil {
		t.Fatal(err)
	}
	env.kubectl = &kubectlRunner{cp: env.cp, bin: binaries.Kubectl, cacheDir: filepath.Join(env.work, "kubectl-cache")}
	env.frontProxy = readKeyPair(t, env.cp.PKI.FrontProxyCert, env.cp.PKI.FrontProxyKey)
	return env
}

// execPath matches the exec path of a config's config.kubernetes.io/function.
var execPath = regexp.MustCompile(`(?m)^(\s*path:\s*)\S*bin/aggapi\s*$`)

// render copies the example directory (relative to the repository root) to
// base/, with the function's exec path made absolute, and builds it with
// kustomize through an overlay that routes the aggregator to 127.0.0.1:port
// (see loopbackOverlay).
func (env *renderEnv) render(t *testing.T, example string, port int) *rendered {
	t.Helper()
	return env.renderEdited(t, example, port, nil)
}

// renderEdited is render with edit applied to the example's AggregatedAPI config.
func (env *renderEnv) renderEdited(t *testing.T, example string, port int, edit func([]byte) []byte) *rendered {
	t.Helper()
	root := testutil.Root(t)
	dir := filepath.Join(env.work, strings.ReplaceAll(example, "/", "_"))
	base, overlay := filepath.Join(dir, "base"), filepath.Join(dir, "overlay")
	for _, d := range []string{base, overlay} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(root, example))
	if err != nil {
		t.Fatal(err)
	}
	configs := 0
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, example, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(execPath.FindAll(data, -1)); n > 0 {
			configs += n
			data = execPath.ReplaceAll(data, []byte("${1}"+env.aggapi))
			if edit != nil {
				data = edit(data)
			}
		}
		testutil.WriteFile(t, filepath.Join(base, e.Name()), data)
	}
	if configs != 1 {
		t.Fatalf("%s: %d exec paths of bin/aggapi, want 1", example, configs)
	}
	testutil.WriteFile(t, filepath.Join(overlay, "kustomization.yaml"), loopbackOverlay(port))
	return kustomizeBuild(t, env.kustomize, overlay)
}

// loopbackOverlay is a kustomization over ../base that changes only what
// loopback needs: every Service becomes an ExternalName "127.0.0.1" and every
// APIService's port becomes the local server's. The aggregator (routing
// disabled) then dials 127.0.0.1:port and verifies the certificate for
// <service>.<namespace>.svc against the caBundle, exactly as in a cluster.
func loopbackOverlay(port int) []byte {
	return fmt.Appendf(nil, `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
# Test-only: route the aggregator to a server on 127.0.0.1:%[1]d.
resources:
- ../base
patches:
- target:
    version: v1
    kind: Service
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
`, port)
}

func (env *renderEnv) apply(t *testing.T, r *rendered) {
	t.Helper()
	env.kubectl.apply(t, r.yaml)
}

// bindViewer creates the namespace and binds a new user to the ClusterRole
// role in it, and returns the user's client.
func (env *renderEnv) bindViewer(t *testing.T, namespace, user, role string) *controlplane.Client {
	t.Helper()
	mustCreate(t, env.admin, "/api/v1/namespaces", object("v1", "Namespace", "", namespace))
	binding := object("rbac.authorization.k8s.io/v1", "RoleBinding", namespace, user)
	binding["subjects"] = []any{map[string]any{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": user}}
	binding["roleRef"] = map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}
	mustCreate(t, env.admin, "/apis/rbac.authorization.k8s.io/v1/namespaces/"+namespace+"/rolebindings", binding)
	return env.user(t, user)
}

// user returns a client for a user with a client certificate of the cluster CA.
func (env *renderEnv) user(t *testing.T, name string) *controlplane.Client {
	t.Helper()
	kp, err := env.cp.CA.ClientCert(name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := env.cp.ClientFor(controlplane.Credentials{ClientCertPEM: kp.CertPEM, ClientKeyPEM: kp.KeyPEM})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// renderedServer is what the rendered Deployment gives its pod.
type renderedServer struct {
	namespace, deployment, serviceAccount string
	service                               string // the Service the APIServices name
	args                                  []string
	secret                                string // the serving-cert Secret
	certDir                               string // where the pod mounts it
}

// server reads the one Deployment of the render: its namespace, the
// ServiceAccount, the container named apiserver (its args, and where it
// mounts the rendered TLS Secret) and the Service of the APIServices.
func (r *rendered) server(t *testing.T) renderedServer {
	t.Helper()
	var deployments []renderedObject
	for _, o := range r.objects {
		if o.Kind == "Deployment" {
			deployments = append(deployments, o)
		}
	}
	if len(deployments) != 1 {
		t.Fatalf("the render holds %d Deployments, want one server", len(deployments))
	}
	type container struct {
		Name         string   `json:"name"`
		Command      []string `json:"command"`
		Args         []string `json:"args"`
		VolumeMounts []struct {
			Name      string `json:"name"`
			MountPath string `json:"mountPath"`
		} `json:"volumeMounts"`
	}
	var d struct {
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
		Spec struct {
			Template struct {
				Spec struct {
					ServiceAccountName string      `json:"serviceAccountName"`
					Containers         []container `json:"containers"`
					Volumes            []struct {
						Name   string `json:"name"`
						Secret *struct {
							SecretName string `json:"secretName"`
						} `json:"secret"`
					} `json:"volumes"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	deployments[0].decode(t, &d)
	s := renderedServer{
		namespace:      d.Metadata.Namespace,
		deployment:     d.Metadata.Name,
		serviceAccount: d.Spec.Template.Spec.ServiceAccountName,
	}
	pod := d.Spec.Template.Spec
	// The server container: aggapi's default name, or the one container (an imported
	// config keeps upstream's name).
	i := slices.IndexFunc(pod.Containers, func(c container) bool { return c.Name == "apiserver" })
	if i < 0 && len(pod.Containers) == 1 {
		i = 0
	}
	if i < 0 {
		t.Fatalf("Deployment %s/%s has no container named apiserver and more than one container", s.namespace, s.deployment)
	}
	c := pod.Containers[i]
	if len(c.Command) > 0 {
		t.Fatalf("Deployment %s/%s: container apiserver sets command %q; the test runs the upstream binary with args only", s.namespace, s.deployment, c.Command)
	}
	s.args = c.Args
	// The serving certificate: the rendered kubernetes.io/tls Secret the container mounts.
	tlsSecrets := map[string]bool{}
	for _, o := range r.objects {
		var secret struct {
			Type string `json:"type"`
		}
		if o.Kind == "Secret" && o.Metadata.Namespace == s.namespace {
			o.decode(t, &secret)
			tlsSecrets[o.Metadata.Name] = secret.Type == "kubernetes.io/tls"
		}
	}
	for _, v := range pod.Volumes {
		for _, m := range c.VolumeMounts {
			if v.Secret != nil && m.Name == v.Name && tlsSecrets[v.Secret.SecretName] {
				if s.secret != "" {
					t.Fatalf("Deployment %s/%s mounts two TLS Secrets, %s and %s", s.namespace, s.deployment, s.secret, v.Secret.SecretName)
				}
				s.secret, s.certDir = v.Secret.SecretName, m.MountPath
			}
		}
	}
	if s.secret == "" {
		t.Fatalf("container apiserver of Deployment %s/%s mounts no rendered kubernetes.io/tls Secret", s.namespace, s.deployment)
	}
	if s.serviceAccount == "" {
		t.Fatalf("Deployment %s/%s names no ServiceAccount", s.namespace, s.deployment)
	}
	r.object(t, "ServiceAccount", s.namespace, s.serviceAccount)
	for _, name := range r.apiServiceNames() {
		var a apiServiceSpec
		r.object(t, "APIService", "", name).decode(t, &a)
		if s.service != "" && a.Spec.Service.Name != s.service {
			t.Fatalf("APIServices route to Services %s and %s, want one server", s.service, a.Spec.Service.Name)
		}
		s.service = a.Spec.Service.Name
	}
	if s.service == "" {
		t.Fatal("the render holds no APIService")
	}
	return s
}

// dnsName is the name the aggregator verifies the serving certificate for.
func (s renderedServer) dnsName() string { return s.service + "." + s.namespace + ".svc" }

// viewRole is the name of the rendered ClusterRole aggregated into view.
func (r *rendered) viewRole(t *testing.T) string {
	t.Helper()
	var found []string
	for _, o := range r.objects {
		if o.Kind != "ClusterRole" {
			continue
		}
		var role struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
		}
		o.decode(t, &role)
		if role.Metadata.Labels["rbac.authorization.k8s.io/aggregate-to-view"] == "true" {
			found = append(found, o.Metadata.Name)
		}
	}
	if len(found) != 1 {
		t.Fatalf("the render holds %d ClusterRoles aggregated into view (%v), want one", len(found), found)
	}
	return found[0]
}

// start runs binary as the rendered pod would run: the container's args with
// the certificate paths pointing at the rendered Secret's files written
// locally, --secure-port the loopback port, plus --bind-address=127.0.0.1
// and kubeconfigs of a token of the rendered ServiceAccount (what a pod gets
// from its in-cluster config): --authentication-kubeconfig,
// --authorization-kubeconfig and the binary's own client flags. It returns
// once the server answers /apis/<group> for requests the aggregator sends.
func (env *renderEnv) start(t *testing.T, r *rendered, s renderedServer, binary string, port int, clientFlags func(kubeconfig string) []string, groups ...string) *controlplane.ExtensionServer {
	t.Helper()
	ctx := t.Context()
	name := filepath.Base(binary)
	token, err := env.cp.ServiceAccountToken(ctx, s.namespace, s.serviceAccount, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(env.cp.Dir, name+".kubeconfig")
	user := "system:serviceaccount:" + s.namespace + ":" + s.serviceAccount
	checkNotAdmin(t, env.cp, token, user)
	if err := env.cp.WriteKubeconfig(kubeconfig, user, controlplane.Credentials{Token: token}); err != nil {
		t.Fatal(err)
	}

	var secret struct {
		Type string            `json:"type"`
		Data map[string][]byte `json:"data"`
	}
	r.object(t, "Secret", s.namespace, s.secret).decode(t, &secret)
	if secret.Type != "kubernetes.io/tls" {
		t.Fatalf("Secret %s/%s has type %q, want kubernetes.io/tls", s.namespace, s.secret, secret.Type)
	}
	// Not t.TempDir: the process outlives the subtest that starts it.
	certDir := filepath.Join(env.cp.Dir, name+"-serving-cert")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for file, data := range secret.Data {
		testutil.WriteFile(t, filepath.Join(certDir, file), data)
	}
	args := localArgs(t, s.args, s.certDir, certDir, port)
	args = append(args,
		"--bind-address=127.0.0.1",
		"--authentication-kubeconfig="+kubeconfig,
		"--authorization-kubeconfig="+kubeconfig,
	)
	args = append(args, clientFlags(kubeconfig)...)

	began := time.Now()
	srv, err := env.cp.StartExtensionServer(ctx, controlplane.ExtensionServerOptions{
		Name:         name,
		Binary:       binary,
		Args:         args,
		Port:         port,
		ServingCAPEM: secret.Data["ca.crt"],
		ServerName:   s.dnsName(),
	})
	if err != nil {
		t.Fatal(err)
	}
	healthy := time.Since(began)
	for _, g := range groups {
		waitFrontProxyAccepted(t, srv.URL, secret.Data["ca.crt"], s.dnsName(), env.frontProxy, "/apis/"+g)
	}
	t.Logf("%s as %s on %s: /healthz after %v, serving the aggregator after %v", name, user, srv.URL, healthy.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	return srv
}

// checkNotAdmin asks kube-apiserver who the token is (SelfSubjectReview):
// the ServiceAccount, in no group that bypasses RBAC, so only the rendered
// RBAC authorises what the server does.
func checkNotAdmin(t *testing.T, cp *controlplane.ControlPlane, token, user string) {
	t.Helper()
	c, err := cp.ClientFor(controlplane.Credentials{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	var review struct {
		Status struct {
			UserInfo struct {
				Username string   `json:"username"`
				Groups   []string `json:"groups"`
			} `json:"userInfo"`
		} `json:"status"`
	}
	req := map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
	if err := c.Create(t.Context(), "/apis/authentication.k8s.io/v1/selfsubjectreviews", req, &review); err != nil {
		t.Fatal(err)
	}
	info := review.Status.UserInfo
	if info.Username != user || slices.Contains(info.Groups, "system:masters") {
		t.Fatalf("the server's token authenticates as %q in groups %q, want %s outside system:masters", info.Username, info.Groups, user)
	}
}

// localArgs maps the rendered container args to the local process: a path
// under the pod's serving-cert mount moves to certDir, --secure-port becomes
// port, and --cert-dir (where a server would write a self-signed
// certificate) goes to certDir too.
func localArgs(t *testing.T, rendered []string, mountPath, certDir string, port int) []string {
	t.Helper()
	var args []string
	sawPort := false
	for _, a := range rendered {
		flag, value, ok := strings.Cut(a, "=")
		switch {
		case !ok:
		case flag == "--secure-port":
			a, sawPort = "--secure-port="+strconv.Itoa(port), true
		case flag == "--cert-dir":
			a = "--cert-dir=" + certDir
		case strings.HasPrefix(value, mountPath+"/"):
			a = flag + "=" + filepath.Join(certDir, strings.TrimPrefix(value, mountPath+"/"))
		case strings.HasPrefix(value, "/"):
			t.Fatalf("rendered arg %q names a path in the pod the test cannot map", a)
		}
		args = append(args, a)
	}
	if !sawPort {
		t.Fatalf("rendered args %q set no --secure-port", rendered)
	}
	return args
}

// waitFrontProxyAccepted waits until the server serves path to a request as
// the aggregator sends it: the front-proxy client certificate and
// X-Remote-* headers. /healthz answers before that: the request-header CA
// from kube-system/extension-apiserver-authentication loads a little later.
func waitFrontProxyAccepted(t *testing.T, url string, caPEM []byte, serverName string, frontProxy controlplane.KeyPair, path string) {
	t.Helper()
	hc, err := controlplane.NewTLSClient(caPEM, &frontProxy)
	if err != nil {
		t.Fatal(err)
	}
	hc.Transport.(*http.Transport).TLSClientConfig.ServerName = serverName
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err = controlplane.Poll(ctx, 50*time.Millisecond, func(ctx context.Context) (bool, error) {
		return true, getAsFrontProxy(ctx, hc, url, path)
	})
	if err != nil {
		t.Fatalf("the server at %s never served %s to the aggregator: %v", url, path, err)
	}
}

// checkPortFree fails the test if something listens on port (all interfaces).
func checkPortFree(t *testing.T, port int) {
	t.Helper()
	l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("port %d is taken (%v): the custom-metrics test adapter listens there, hard-coded upstream", port, err)
	}
	l.Close()
}
