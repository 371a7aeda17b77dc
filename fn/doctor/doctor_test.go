package doctor

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	aggfake "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset/fake"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/manifests"
	"github.com/aggapi/aggapi/fn/pki"
)

const wardleConfig = `apiVersion: aggapi.dev/v1alpha1
kind: AggregatedAPI
metadata:
  name: wardle
spec:
  group: wardle.example.com
  versions: [{name: v1alpha1}, {name: v1beta1}]
  service: {name: api}
  server:
    image: registry.k8s.io/e2e-test-images/sample-apiserver:1.29.2
`

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// cluster is a fake cluster holding what aggapi renders for wardleConfig, applied
// and healthy; tests break it.
type cluster struct {
	objs     []manifests.Object
	caPEM    []byte
	leaf     *pki.KeyPair
	kube     *kubefake.Clientset
	agg      *aggfake.Clientset
	rendered string          // the rendered manifests as a file
	allowed  bool            // the SelfSubjectAccessReview answer
	denied   map[string]bool // resources the server's ServiceAccount may not use (SubjectAccessReview)
	dynamic  *dynamicfake.FakeDynamicClient
}

func newCluster(t *testing.T, mode string, mutate func(*cluster)) *cluster {
	t.Helper()
	doc := wardleConfig
	if mode != "" {
		doc += "  certificate: {mode: " + mode + "}\n"
	}
	api, errs := config.Load([]byte(doc))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	c := &cluster{allowed: true}
	var m manifests.Material
	if mode == "" {
		ca, err := pki.NewCertificateAuthority("wardle-ca", pki.ECDSAP256, testNow, testNow.Add(10*365*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		c.leaf, err = ca.NewServingCert(pki.ServingCertRequest{DNSNames: api.ServingDNSNames(), KeyAlgorithm: pki.ECDSAP256, NotAfter: testNow.Add(365 * 24 * time.Hour)}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		keyPEM, err := pki.EncodePrivateKeyPEM(c.leaf.Key)
		if err != nil {
			t.Fatal(err)
		}
		c.caPEM = pki.EncodeCertPEM(ca.Cert)
		m = manifests.Material{CABundle: c.caPEM, Secret: &manifests.SecretPEM{CertPEM: pki.EncodeCertPEM(c.leaf.Cert), KeyPEM: keyPEM, CAPEM: c.caPEM}}
	}
	objs, err := manifests.Build(api, m)
	if err != nil {
		t.Fatal(err)
	}
	c.objs = objs

	var docs []string
	for _, o := range c.objs {
		b, err := sigsyaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	c.rendered = filepath.Join(t.TempDir(), "rendered.yaml")
	if err := os.WriteFile(c.rendered, []byte(strings.Join(docs, "---\n")), 0o600); err != nil {
		t.Fatal(err)
	}

	// Apply: copies, so a test can change the live objects without the rendered ones.
	var kubeObjs, aggObjs []runtime.Object
	for _, o := range c.objs {
		obj := o.DeepCopyObject()
		if api, ok := obj.(*apiregv1.APIService); ok {
			api.Status.Conditions = []apiregv1.APIServiceCondition{{Type: apiregv1.Available, Status: apiregv1.ConditionTrue, Reason: "Passed", Message: "all checks passed"}}
			aggObjs = append(aggObjs, api)
			continue
		}
		if dep, ok := obj.(*appsv1.Deployment); ok {
			dep.Status.ReadyReplicas = *dep.Spec.Replicas
		}
		if _, isCertManager := obj.(*manifests.Certificate); isCertManager {
			continue
		}
		if _, isCertManager := obj.(*manifests.Issuer); isCertManager {
			continue
		}
		kubeObjs = append(kubeObjs, obj)
	}
	kubeObjs = append(kubeObjs, authConfigMap(t))
	c.kube = kubefake.NewClientset(kubeObjs...)
	c.agg = aggfake.NewClientset(aggObjs...)
	disc := c.kube.Discovery().(*fakediscovery.FakeDiscovery)
	disc.Resources = []*metav1.APIResourceList{
		{GroupVersion: apiregGroupVersion, APIResources: []metav1.APIResource{{Name: "apiservices"}}},
		{GroupVersion: "wardle.example.com/v1alpha1", APIResources: []metav1.APIResource{{Name: "flunders"}}},
		{GroupVersion: "wardle.example.com/v1beta1", APIResources: []metav1.APIResource{{Name: "flunders"}}},
	}
	disc.FakedServerVersion = &version.Info{GitVersion: "v1.37.2"}
	c.kube.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authzv1.SelfSubjectAccessReview).DeepCopy()
		r.Status.Allowed = c.allowed
		return true, r, nil
	})
	c.kube.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authzv1.SubjectAccessReview).DeepCopy()
		r.Status.Allowed = !c.denied[r.Spec.ResourceAttributes.Resource]
		return true, r, nil
	})
	c.kube.PrependReactor("create", "selfsubjectreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authnv1.SelfSubjectReview).DeepCopy()
		r.Status.UserInfo.Username = "alice"
		return true, r, nil
	})
	if mutate != nil {
		mutate(c)
	}
	return c
}

func authConfigMap(t *testing.T) *corev1.ConfigMap {
	t.Helper()
	ca, err := pki.NewCertificateAuthority("front-proxy-ca", pki.ECDSAP256, testNow, testNow.Add(10*365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: authConfigMapNS, Name: authConfigMapName},
		Data: map[string]string{
			"client-ca-file":                     "irrelevant",
			"requestheader-client-ca-file":       string(pki.EncodeCertPEM(ca.Cert)),
			"requestheader-allowed-names":        `["front-proxy-client"]`,
			"requestheader-username-headers":     `["X-Remote-User"]`,
			"requestheader-group-headers":        `["X-Remote-Group"]`,
			"requestheader-extra-headers-prefix": `["X-Remote-Extra-"]`,
		},
	}
}

func (c *cluster) apiService(t *testing.T, name string) *apiregv1.APIService {
	t.Helper()
	a, err := c.agg.ApiregistrationV1().APIServices().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (c *cluster) update(t *testing.T, a *apiregv1.APIService) {
	t.Helper()
	if _, err := c.agg.ApiregistrationV1().APIServices().Update(context.Background(), a, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// run runs the doctor on the rendered manifests and returns its output.
func (c *cluster) run(t *testing.T, now time.Time) (string, []Result) {
	t.Helper()
	targets, err := TargetsFromManifests([]string{c.rendered}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.runTargets(t, now, targets, false)
}

func (c *cluster) runTargets(t *testing.T, now time.Time, targets []Target, discover bool) (string, []Result) {
	t.Helper()
	var out bytes.Buffer
	d := &Doctor{Kube: c.kube, Aggregator: c.agg, Now: now, WarnWithin: 720 * time.Hour, Emit: func(r Result) { out.WriteString(r.String() + "\n") }}
	if c.dynamic != nil {
		d.Dynamic = c.dynamic
	}
	results := d.Run(context.Background(), targets, discover)
	return out.String(), results
}

func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestHealthy(t *testing.T) {
	c := newCluster(t, "", nil)
	out, results := c.run(t, testNow)
	if n := Failures(results); n != 0 {
		t.Fatalf("%d failures on a healthy cluster:\n%s", n, out)
	}
	wantLines(t, out,
		"ok: APIService API: apiregistration.k8s.io/v1 serves apiservices (kube-apiserver v1.37.2)",
		"ok: permission: user alice may create apiservices.apiregistration.k8s.io",
		`ok: ConfigMap kube-system/extension-apiserver-authentication: requestheader-client-ca-file holds 1 CA(s) (CA "front-proxy-ca"`,
		"requestheader-allowed-names [front-proxy-client]",
		"ok: APIService v1alpha1.wardle.example.com: Available (Passed: all checks passed) → Service wardle/api port 443",
		"ok: APIService v1beta1.wardle.example.com: caBundle matches "+c.rendered+` (CA "wardle-ca"`,
		"ok: APIService v1alpha1.wardle.example.com: serving certificate: Secret wardle/wardle-serving-cert (mounted by Deployment wardle/wardle-apiserver): tls.crt for api.wardle.svc verifies against the live caBundle; expires",
	)
	if strings.Contains(out, "warn:") {
		t.Errorf("warnings on a healthy cluster:\n%s", out)
	}
}

func TestWrongCABundle(t *testing.T) {
	other, err := pki.NewCertificateAuthority("someone-elses-ca", pki.ECDSAP256, testNow, testNow.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, "", nil)
	a := c.apiService(t, "v1alpha1.wardle.example.com")
	a.Spec.CABundle = pki.EncodeCertPEM(other.Cert)
	a.Status.Conditions[0] = apiregv1.APIServiceCondition{Type: apiregv1.Available, Status: apiregv1.ConditionFalse, Reason: "FailedDiscoveryCheck",
		Message: `failing or missing response from https://127.0.0.1:1/apis/wardle.example.com/v1alpha1: Get "https://127.0.0.1:1/apis/wardle.example.com/v1alpha1": tls: failed to verify certificate: x509: certificate signed by unknown authority`}
	c.update(t, a)

	out, results := c.run(t, testNow)
	if n := Failures(results); n != 3 {
		t.Errorf("%d failures, want 3 (Available, caBundle, serving certificate):\n%s", n, out)
	}
	wantLines(t, out,
		"FAIL: APIService v1alpha1.wardle.example.com: Available=False (FailedDiscoveryCheck): failing or missing response",
		"likely cause: x509: the caBundle does not match the CA of the serving certificate — fix: re-render and re-apply",
		`FAIL: APIService v1alpha1.wardle.example.com: the live caBundle (CA "someone-elses-ca"`,
		"field manager(s) of the live caBundle: ", // the fake clientset's tracker names them "unknown"
		"— fix: apply the rendered manifests (kubectl apply -f "+c.rendered+")",
		"FAIL: APIService v1alpha1.wardle.example.com: serving certificate: tls.crt of Secret wardle/wardle-serving-cert (mounted by Deployment wardle/wardle-apiserver) does not verify against the live caBundle",
		"ok: APIService v1beta1.wardle.example.com: Available",
	)
}

func TestCABundleManagers(t *testing.T) {
	a := &apiregv1.APIService{ObjectMeta: metav1.ObjectMeta{ManagedFields: []metav1.ManagedFieldsEntry{
		{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply, FieldsType: "FieldsV1",
			FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:labels":{}},"f:spec":{"f:group":{}}}`)}},
		{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate, FieldsType: "FieldsV1",
			FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:caBundle":{}}}`)}},
		{Manager: "kube-apiserver", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", FieldsType: "FieldsV1",
			FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:status":{"f:conditions":{}}}`)}},
	}}}
	if got := caBundleManagers(a); len(got) != 1 || got[0] != "kubectl-edit (Update)" {
		t.Errorf("caBundleManagers = %q", got)
	}
}

func TestCertificateExpiresSoon(t *testing.T) {
	c := newCluster(t, "", nil)
	out, results := c.run(t, c.leaf.Cert.NotAfter.Add(-10*24*time.Hour))
	if n := Failures(results); n != 0 {
		t.Fatalf("%d failures:\n%s", n, out)
	}
	wantLines(t, out, "warn: APIService v1alpha1.wardle.example.com: serving certificate: Secret wardle/wardle-serving-cert (mounted by Deployment wardle/wardle-apiserver): tls.crt for api.wardle.svc verifies against the live caBundle but expires",
		"in 10d — fix: re-render (aggapi renews inside certificate.renewBefore)")
	out, results = c.run(t, c.leaf.Cert.NotAfter.Add(time.Hour))
	if Failures(results) == 0 || !strings.Contains(out, "certificate has expired") {
		t.Errorf("an expired certificate must fail:\n%s", out)
	}
}

func TestAggregationLayer(t *testing.T) {
	t.Run("no ConfigMap", func(t *testing.T) {
		c := newCluster(t, "", func(c *cluster) {
			_ = c.kube.CoreV1().ConfigMaps(authConfigMapNS).Delete(context.Background(), authConfigMapName, metav1.DeleteOptions{})
		})
		out, _ := c.run(t, testNow)
		wantLines(t, out, "FAIL: ConfigMap kube-system/extension-apiserver-authentication: does not exist",
			"fix: start the kube-apiserver with --requestheader-client-ca-file", "--proxy-client-cert-file", "aggapi aggregation-layer --dir DIR")
	})
	t.Run("no request-header CA", func(t *testing.T) {
		c := newCluster(t, "", func(c *cluster) {
			cm, _ := c.kube.CoreV1().ConfigMaps(authConfigMapNS).Get(context.Background(), authConfigMapName, metav1.GetOptions{})
			cm.Data = map[string]string{"client-ca-file": "x"}
			_, _ = c.kube.CoreV1().ConfigMaps(authConfigMapNS).Update(context.Background(), cm, metav1.UpdateOptions{})
		})
		out, results := c.run(t, testNow)
		if Failures(results) != 1 {
			t.Errorf("want exactly the ConfigMap failure:\n%s", out)
		}
		wantLines(t, out, "FAIL: ConfigMap kube-system/extension-apiserver-authentication: has no requestheader-client-ca-file",
			"--requestheader-client-ca-file", "aggapi aggregation-layer")
	})
}

func TestNotApplied(t *testing.T) {
	c := newCluster(t, "", func(c *cluster) {
		_ = c.agg.ApiregistrationV1().APIServices().Delete(context.Background(), "v1beta1.wardle.example.com", metav1.DeleteOptions{})
	})
	out, results := c.run(t, testNow)
	if Failures(results) != 1 {
		t.Errorf("want one failure:\n%s", out)
	}
	wantLines(t, out, "FAIL: APIService v1beta1.wardle.example.com: not found in the cluster: the APIService was not applied (or was deleted) — fix: apply the rendered manifests")
}

func TestNotAllowed(t *testing.T) {
	c := newCluster(t, "", func(c *cluster) { c.allowed = false })
	out, _ := c.run(t, testNow)
	wantLines(t, out, "FAIL: permission: user alice may not create apiservices.apiregistration.k8s.io")
}

func TestNoAggregator(t *testing.T) {
	c := newCluster(t, "", func(c *cluster) { c.kube.Discovery().(*fakediscovery.FakeDiscovery).Resources = nil })
	out, _ := c.run(t, testNow)
	wantLines(t, out, "FAIL: APIService API: apiregistration.k8s.io/v1 is not served by the cluster")
}

func TestMissingSecretAndNoPods(t *testing.T) {
	c := newCluster(t, "", func(c *cluster) {
		_ = c.kube.CoreV1().Secrets("wardle").Delete(context.Background(), "wardle-serving-cert", metav1.DeleteOptions{})
		a, _ := c.agg.ApiregistrationV1().APIServices().Get(context.Background(), "v1alpha1.wardle.example.com", metav1.GetOptions{})
		a.Status.Conditions[0] = apiregv1.APIServiceCondition{Type: apiregv1.Available, Status: apiregv1.ConditionFalse, Reason: "MissingEndpoints",
			Message: `endpointslices for service/api in "wardle" have no addresses with port name "https"`}
		_, _ = c.agg.ApiregistrationV1().APIServices().Update(context.Background(), a, metav1.UpdateOptions{})
	})
	out, _ := c.run(t, testNow)
	wantLines(t, out,
		"FAIL: APIService v1alpha1.wardle.example.com: Available=False (MissingEndpoints)",
		"likely cause: no ready pods behind the Service wardle/api — fix: kubectl -n wardle get pods",
		"serving certificate: Secret wardle/wardle-serving-cert, mounted by Deployment wardle/wardle-apiserver, does not exist: its pods cannot start")
	c = newCluster(t, "", func(c *cluster) {
		dep, _ := c.kube.AppsV1().Deployments("wardle").Get(context.Background(), "wardle-apiserver", metav1.GetOptions{})
		dep.Status.ReadyReplicas = 0
		_, _ = c.kube.AppsV1().Deployments("wardle").Update(context.Background(), dep, metav1.UpdateOptions{})
	})
	out, _ = c.run(t, testNow)
	wantLines(t, out, "warn: APIService v1alpha1.wardle.example.com: serving certificate: Deployment wardle/wardle-apiserver has 0 of 1 replica(s) ready — fix: kubectl -n wardle describe deployment wardle-apiserver")
}

func TestExternalNameService(t *testing.T) {
	c := newCluster(t, "", func(c *cluster) {
		_ = c.kube.CoreV1().Services("wardle").Delete(context.Background(), "api", metav1.DeleteOptions{})
		_, _ = c.kube.CoreV1().Services("wardle").Create(context.Background(), &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "wardle", Name: "api"},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "127.0.0.1"},
		}, metav1.CreateOptions{})
	})
	out, results := c.run(t, testNow)
	if Failures(results) != 0 {
		t.Errorf("failures:\n%s", out)
	}
	wantLines(t, out, "note: APIService v1alpha1.wardle.example.com: serving certificate: Service wardle/api is an ExternalName (127.0.0.1)")
}

func TestCertManagerInjection(t *testing.T) {
	c := newCluster(t, "cert-manager", nil)
	out, results := c.run(t, testNow)
	wantLines(t, out, "FAIL: APIService v1alpha1.wardle.example.com: the caBundle is empty and no cert-manager cainjector Deployment runs in the cluster: nothing will inject it — fix: install cert-manager with its cainjector",
		"[cert-manager-cainjector-missing]")
	if strings.Contains(out, "differs from") {
		t.Errorf("an injected caBundle must not be compared with the manifests:\n%s", out)
	}
	if Failures(results) == 0 {
		t.Error("no failure")
	}
}

func TestTargetsFromConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aggapi.yaml")
	if err := os.WriteFile(path, []byte("# a comment\n"+wardleConfig+"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	targets, err := TargetsFromConfig(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 2 || targets[0].Name != "v1alpha1.wardle.example.com" || targets[1].Name != "v1beta1.wardle.example.com" {
		t.Fatalf("targets %+v", targets)
	}
	if e := targets[0].Expect; e == nil || *e != (Ref{APIService: "v1alpha1.wardle.example.com", Namespace: "wardle", Service: "api", Port: 443}) {
		t.Errorf("expect %+v", e)
	}
	if targets[0].CABundle != nil || targets[0].Injector != "" {
		t.Errorf("a generate-mode config knows no caBundle: %+v", targets[0])
	}
	// Against the healthy cluster: everything but the caBundle comparison.
	c := newCluster(t, "", nil)
	out, results := c.runTargets(t, testNow, targets, false)
	if Failures(results) != 0 || strings.Contains(out, "caBundle matches") {
		t.Errorf("config targets:\n%s", out)
	}

	if _, err := TargetsFromConfig(path, nil); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(bad, []byte(strings.Replace(wardleConfig, "group: wardle.example.com", "group: Not_A_Group", 1)), 0o600)
	if _, err := TargetsFromConfig(bad, nil); err == nil || !strings.Contains(err.Error(), "spec.group") {
		t.Errorf("invalid config: %v", err)
	}
	// Valid as a config, refused by render's podTemplate rules: requests above limits.
	overLimits := filepath.Join(t.TempDir(), "over.yaml")
	_ = os.WriteFile(overLimits, []byte(wardleConfig+"    resources: {requests: {cpu: '2'}, limits: {cpu: '1'}}\n"), 0o600)
	if _, err := TargetsFromConfig(overLimits, nil); err == nil || !strings.Contains(err.Error(), "spec.server.resources") {
		t.Errorf("requests above limits: %v", err)
	}
}

// TestProvidedConfigCABundle: `--config` of a provided-mode config compares the
// certificates of the user's CA with the live caBundle, not its bytes: the render
// normalises the PEM (no comments, LF line endings), and that is the same CA.
func TestProvidedConfigCABundle(t *testing.T) {
	c := newCluster(t, "", nil)
	dir := t.TempDir()
	crlf := "# the platform team's CA\r\n" + strings.ReplaceAll(string(c.caPEM), "\n", "\r\n")
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), []byte(crlf), 0o600); err != nil {
		t.Fatal(err)
	}
	other, err := pki.NewCertificateAuthority("someone-elses-ca", pki.ECDSAP256, testNow, testNow.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	provided := func(source string) string {
		return wardleConfig + "  certificate:\n    mode: provided\n    provided:\n      secretName: wardle-serving-cert\n" + source
	}
	indented := func(pem string) string {
		return "      caBundle: |\n        " + strings.ReplaceAll(strings.TrimSpace(pem), "\n", "\n        ") + "\n"
	}
	for _, tc := range []struct {
		name, config string
		match        bool
	}{
		{"caBundle with a comment", provided(indented("# the platform team's CA\n" + string(c.caPEM))), true},
		{"caFile with a comment and CRLF line endings", provided("      caFile: ca.pem\n"), true},
		{"another CA", provided(indented(string(pki.EncodeCertPEM(other.Cert)))), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "aggapi.yaml")
			if err := os.WriteFile(path, []byte(tc.config), 0o600); err != nil {
				t.Fatal(err)
			}
			targets, err := TargetsFromConfig(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(targets) == 0 || targets[0].CABundle == nil {
				t.Fatalf("no caBundle in the targets of a provided-mode config: %+v", targets)
			}
			out, results := c.runTargets(t, testNow, targets, false)
			if tc.match {
				if n := Failures(results); n != 0 {
					t.Errorf("%d failure(s) for the same CA:\n%s", n, out)
				}
				wantLines(t, out, "ok: APIService v1alpha1.wardle.example.com: caBundle matches "+path+` (CA "wardle-ca"`)
				return
			}
			wantLines(t, out, `FAIL: APIService v1alpha1.wardle.example.com: the live caBundle (CA "wardle-ca"`, `differs from the one in `+path+` (CA "someone-elses-ca"`)
		})
	}
}

func TestSameCertificates(t *testing.T) {
	a, err := pki.NewCertificateAuthority("a", pki.ECDSAP256, testNow, testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	b, err := pki.NewCertificateAuthority("b", pki.ECDSAP256, testNow, testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ab, ba := pki.EncodeCertPEM(a.Cert, b.Cert), pki.EncodeCertPEM(b.Cert, a.Cert)
	for _, tc := range []struct {
		name string
		x, y []byte
		want bool
	}{
		{"same bytes", ab, ab, true},
		{"another order", ab, ba, true},
		{"CRLF and a comment", ab, []byte("# ours\r\n" + strings.ReplaceAll(string(ab), "\n", "\r\n")), true},
		{"one CA fewer", ab, pki.EncodeCertPEM(a.Cert), false},
		{"another CA", pki.EncodeCertPEM(a.Cert), pki.EncodeCertPEM(b.Cert), false},
		{"not PEM against PEM", []byte("junk"), ab, false},
		{"the same junk", []byte("junk\n"), []byte("junk"), true},
	} {
		if got := sameCertificates(tc.x, tc.y); got != tc.want {
			t.Errorf("%s: sameCertificates = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDiscoverTargets(t *testing.T) {
	c := newCluster(t, "", nil)
	out, results := c.runTargets(t, testNow, nil, true)
	if Failures(results) != 0 {
		t.Errorf("failures:\n%s", out)
	}
	wantLines(t, out, "ok: APIServices: 2 APIService(s) served by a Service, of 2 in the cluster",
		"ok: APIService v1alpha1.wardle.example.com: managed by aggapi (config wardle)",
		"ok: APIService v1beta1.wardle.example.com: serving certificate: Secret wardle/wardle-serving-cert")
}

func TestTargetsFromManifestsWithoutAPIService(t *testing.T) {
	_, err := TargetsFromManifests([]string{"-"}, strings.NewReader("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"))
	if err == nil || !strings.Contains(err.Error(), "no APIService in stdin") {
		t.Errorf("got %v", err)
	}
}

func TestMainUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--help"}, 0, "Usage: aggapi doctor"},
		{[]string{"-h"}, 0, "Usage: aggapi doctor"},
		{[]string{"--version"}, 0, "aggapi-doctor "},
		{[]string{"-f", "a.yaml", "--config", "b.yaml"}, 2, "not both"},
		{[]string{"-f", "-", "-f", "-"}, 2, "only once"},
		{[]string{"extra"}, 2, "unexpected argument"},
		{[]string{"--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"-f", "/does/not/exist.yaml"}, 2, "no such file"},
		{[]string{"-o", "yaml"}, 2, `-o "yaml": give text or json`},
		{[]string{"--watch", "-1s"}, 2, "--watch must be 0 or more"},
	} {
		var stdout, stderr bytes.Buffer
		if code := Main(tc.args, strings.NewReader(""), &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String()+stdout.String(), tc.want) {
			t.Errorf("Main(%q) = %d, want %d with %q\nstdout: %s\nstderr: %s", tc.args, code, tc.code, tc.want, &stdout, &stderr)
		}
	}
}

func TestMainNoKubeconfig(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	var stdout, stderr bytes.Buffer
	code := Main(nil, strings.NewReader(""), &stdout, &stderr)
	if code != 1 || !strings.Contains(stdout.String(), "FAIL: kubeconfig: ") || !strings.Contains(stdout.String(), "fix: give --kubeconfig") {
		t.Errorf("code %d\nstdout: %s\nstderr: %s", code, &stdout, &stderr)
	}
	stdout.Reset()
	code = Main([]string{"--kubeconfig", filepath.Join(t.TempDir(), "missing")}, strings.NewReader(""), &stdout, &stderr)
	if code != 1 || !strings.Contains(stdout.String(), "FAIL: kubeconfig: ") {
		t.Errorf("explicit missing kubeconfig: code %d\nstdout: %s", code, &stdout)
	}
}
