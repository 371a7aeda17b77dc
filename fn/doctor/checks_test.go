package doctor

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"

	"github.com/aggapi/aggapi/fn/keys"
	"github.com/aggapi/aggapi/fn/pki"
)

const (
	v1alpha1 = "v1alpha1.wardle.example.com"
	v1beta1  = "v1beta1.wardle.example.com"
)

func (c *cluster) setCondition(t *testing.T, name, status, reason, msg string) {
	t.Helper()
	a := c.apiService(t, name)
	a.Status.Conditions = []apiregv1.APIServiceCondition{{Type: apiregv1.Available, Status: apiregv1.ConditionStatus(status), Reason: reason, Message: msg}}
	c.update(t, a)
}

func (c *cluster) deployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	d, err := c.kube.AppsV1().Deployments("wardle").Get(context.Background(), "wardle-apiserver", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (c *cluster) create(t *testing.T, objs ...runtime.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.kube.Tracker().Add(o); err != nil {
			t.Fatal(err)
		}
	}
}

// serverPod is a pod of the rendered Deployment, at ip.
func (c *cluster) serverPod(t *testing.T, name, ip string, ready bool) *corev1.Pod {
	t.Helper()
	dep := c.deployment(t)
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "wardle", Name: name, Labels: dep.Spec.Template.Labels},
		Spec:       dep.Spec.Template.Spec,
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}},
	}
}

// serverPort is the container port of the rendered server.
func (c *cluster) serverPort(t *testing.T) int32 {
	t.Helper()
	return c.deployment(t).Spec.Template.Spec.Containers[0].Ports[0].ContainerPort
}

func itoa32(n int32) string { return strconv.Itoa(int(n)) }

func endpointSlice(ip string, port int32, pod string) *discoveryv1.EndpointSlice {
	name, ready := "https", true
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "wardle", Name: "api-abcde", Labels: map[string]string{discoveryv1.LabelServiceName: "api"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready},
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "wardle", Name: pod}}},
		Ports: []discoveryv1.EndpointPort{{Name: &name, Port: &port}},
	}
}

// wantCause checks that a finding of status names cause and carries each substring.
func wantCause(t *testing.T, results []Result, status Status, cause string, subs ...string) Result {
	t.Helper()
	for _, r := range results {
		if r.Status != status || r.Cause != cause {
			continue
		}
		line := r.String()
		missing := false
		for _, s := range subs {
			if !strings.Contains(line, s) {
				missing = true
			}
		}
		if !missing {
			return r
		}
	}
	var all []string
	for _, r := range results {
		all = append(all, r.String())
	}
	t.Fatalf("no %s finding [%s] with %q in:\n%s", status, cause, subs, strings.Join(all, "\n"))
	return Result{}
}

func noCause(t *testing.T, results []Result, cause string) {
	t.Helper()
	for _, r := range results {
		if r.Cause == cause {
			t.Errorf("unexpected finding: %s", r)
		}
	}
}

func TestHealthyHasNoFindings(t *testing.T) {
	for _, discover := range []bool{false, true} {
		c := newCluster(t, "", nil)
		var targets []Target
		if !discover {
			var err error
			if targets, err = TargetsFromManifests([]string{c.rendered}, nil); err != nil {
				t.Fatal(err)
			}
		}
		out, results := c.runTargets(t, testNow, targets, discover)
		for _, r := range results {
			if r.Status == Fail || r.Status == Warn {
				t.Errorf("discover=%v: a finding on a healthy cluster: %s\n%s", discover, r, out)
			}
		}
	}
}

func TestControlPlaneCannotReachGKE(t *testing.T) {
	c := newCluster(t, "", nil)
	c.create(t, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "gke-pool-1-abc", Labels: map[string]string{"cloud.google.com/gke-nodepool": "pool-1"}}},
		c.serverPod(t, "wardle-apiserver-1", "10.48.2.7", true), endpointSlice("10.48.2.7", 8443, "wardle-apiserver-1"))
	c.setCondition(t, v1alpha1, "False", "FailedDiscoveryCheck",
		`failing or missing response from https://10.48.2.7:8443/apis/wardle.example.com/v1alpha1: Get "https://10.48.2.7:8443/apis/wardle.example.com/v1alpha1": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)`)
	_, results := c.run(t, testNow)
	r := wantCause(t, results, Fail, CauseControlPlaneCannotReach, "aggregator routing: the kube-apiserver dialed pod wardle-apiserver-1 at 10.48.2.7:8443", "TCP 8443", "masterIpv4CidrBlock")
	if !strings.Contains(r.Ask, "GKE") {
		t.Errorf("ask %q names no GKE rule", r.Ask)
	}
}

func TestControlPlaneCannotReachServiceRouting(t *testing.T) {
	c := newCluster(t, "", func(c *cluster) {
		svc, _ := c.kube.CoreV1().Services("wardle").Get(context.Background(), "api", metav1.GetOptions{})
		svc.Spec.ClusterIP = "10.96.4.10"
		_, _ = c.kube.CoreV1().Services("wardle").Update(context.Background(), svc, metav1.UpdateOptions{})
	})
	c.create(t, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "ip-10-0-1-2", Labels: map[string]string{"eks.amazonaws.com/nodegroup": "ng"}}})
	c.setCondition(t, v1alpha1, "False", "FailedDiscoveryCheck",
		`failing or missing response from https://10.96.4.10:443/apis/wardle.example.com/v1alpha1: Get "https://10.96.4.10:443/apis/wardle.example.com/v1alpha1": dial tcp 10.96.4.10:443: i/o timeout`)
	_, results := c.run(t, testNow)
	r := wantCause(t, results, Fail, CauseControlPlaneCannotReach, "Service routing: the kube-apiserver dialed the ClusterIP 10.96.4.10:443", "TCP "+itoa32(c.serverPort(t)))
	if !strings.Contains(r.Ask, "EKS") || !strings.Contains(r.Ask, "security group") {
		t.Errorf("ask %q names no EKS rule", r.Ask)
	}
}

func TestTargetPortMismatch(t *testing.T) {
	c := newCluster(t, "", func(c *cluster) {
		svc, _ := c.kube.CoreV1().Services("wardle").Get(context.Background(), "api", metav1.GetOptions{})
		svc.Spec.Ports[0].TargetPort = intstr.FromInt32(9443)
		_, _ = c.kube.CoreV1().Services("wardle").Update(context.Background(), svc, metav1.UpdateOptions{})
	})
	_, results := c.run(t, testNow)
	wantCause(t, results, Fail, CauseTargetPortMismatch, "sends to pod port 9443, but Deployment wardle/wardle-apiserver listens on --secure-port="+itoa32(c.serverPort(t)))

	c = newCluster(t, "", func(c *cluster) {
		svc, _ := c.kube.CoreV1().Services("wardle").Get(context.Background(), "api", metav1.GetOptions{})
		svc.Spec.Ports[0].TargetPort = intstr.FromString("secure")
		_, _ = c.kube.CoreV1().Services("wardle").Update(context.Background(), svc, metav1.UpdateOptions{})
	})
	_, results = c.run(t, testNow)
	wantCause(t, results, Fail, CauseTargetPortMismatch, `targetPort "secure", which no container of Deployment wardle/wardle-apiserver names`)

	c = newCluster(t, "", nil)
	a := c.apiService(t, v1alpha1)
	p := int32(8080)
	a.Spec.Service.Port = &p
	c.update(t, a)
	_, results = c.run(t, testNow)
	wantCause(t, results, Fail, CauseServicePortMissing, "the APIService dials port 8080, but Service wardle/api has port(s) 443")
}

func TestPodsNotReady(t *testing.T) {
	c := newCluster(t, "", nil)
	pod := c.serverPod(t, "wardle-apiserver-1", "10.0.0.5", false)
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name:                 "apiserver",
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 5m0s"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 255}},
		RestartCount:         7,
	}}
	c.create(t, pod)
	c.setCondition(t, v1alpha1, "False", "MissingEndpoints", `endpointslices for service/api in "wardle" have no addresses with port name "https"`)
	_, results := c.run(t, testNow)
	wantCause(t, results, Fail, CauseNoReadyEndpoints)
	wantCause(t, results, Fail, CausePodsNotReady, "pod wardle/wardle-apiserver-1", "waiting: CrashLoopBackOff back-off 5m0s", "last terminated: Error (exit 255)", "7 restart(s)")
}

func TestLogDenials(t *testing.T) {
	logs := strings.Join([]string{
		`I0101 serving securely on [::]:8443`,
		`E0101 reflector.go:158] failed to list *v1.ValidatingAdmissionPolicy: validatingadmissionpolicies.admissionregistration.k8s.io is forbidden: User "system:serviceaccount:wardle:wardle-apiserver" cannot list resource "validatingadmissionpolicies"`,
		`E0101 x509.go:1] Unable to authenticate the request due to an error: x509: subject with cn=front-proxy-client is not in the allowed list`,
		`I0101 all good`,
	}, "\n")
	got := denials([]byte(logs))
	if len(got) != 2 || !strings.Contains(got[0], "validatingadmissionpolicies") || !strings.Contains(got[1], "not in the allowed list") {
		t.Errorf("denials = %q", got)
	}
}

func TestServiceAccountRBAC(t *testing.T) {
	c := newCluster(t, "", func(c *cluster) { c.denied = map[string]bool{"subjectaccessreviews": true, "flowschemas": true} })
	c.setCondition(t, v1alpha1, "False", "FailedDiscoveryCheck",
		`failing or missing response from https://10.0.0.5:8443/apis/wardle.example.com/v1alpha1: bad status from https://10.0.0.5:8443/apis/wardle.example.com/v1alpha1: 403`)
	_, results := c.run(t, testNow)
	wantCause(t, results, Fail, CauseServerForbids)
	wantCause(t, results, Fail, CauseServiceAccountRBAC, "ServiceAccount wardle/wardle-apiserver of Deployment wardle/wardle-apiserver may not: create subjectaccessreviews.authorization.k8s.io, list flowschemas.flowcontrol.apiserver.k8s.io", "system:auth-delegator")
	// An Available APIService's server is not asked about: its permissions work.
	for _, r := range results {
		if r.Cause == CauseServiceAccountRBAC && strings.Contains(r.What, v1beta1) {
			t.Errorf("checked the Available APIService: %s", r)
		}
	}
}

// TestServerNeedsMatchRenderedRules ties serverNeeds to the ClusterRole aggapi renders
// for a server: what the doctor asks for is what a render grants.
func TestServerNeedsMatchRenderedRules(t *testing.T) {
	c := newCluster(t, "", nil)
	granted := map[string]bool{}
	for _, o := range c.objs {
		if o.GetObjectKind().GroupVersionKind().Kind != "ClusterRole" {
			continue
		}
		raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			t.Fatal(err)
		}
		rules, _, _ := unstructured.NestedSlice(raw, "rules")
		for _, r := range rules {
			rm := r.(map[string]any)
			groups, _, _ := unstructured.NestedStringSlice(rm, "apiGroups")
			resources, _, _ := unstructured.NestedStringSlice(rm, "resources")
			verbs, _, _ := unstructured.NestedStringSlice(rm, "verbs")
			for _, g := range groups {
				for _, res := range resources {
					for _, v := range verbs {
						granted[v+" "+g+"/"+res] = true
					}
				}
			}
		}
	}
	for _, n := range serverNeeds {
		if n.Delegation {
			continue // system:auth-delegator and extension-apiserver-authentication-reader grant these
		}
		if !granted[n.Verb+" "+n.Group+"/"+n.Resource] {
			t.Errorf("the doctor asks for %s, which aggapi's rendered ClusterRoles do not grant", n)
		}
	}
}

func TestNetworkPolicyBlocks(t *testing.T) {
	c := newCluster(t, "", nil)
	labels := c.deployment(t).Spec.Template.Labels
	port := intstr.FromInt32(c.serverPort(t))
	// Admits the server's port from the frontend's pods only: not the control plane.
	onlyFrontend := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "wardle", Name: "only-frontend"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: labels},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				Ports: []networkingv1.NetworkPolicyPort{{Port: &port}},
				From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "frontend"}}}},
			}},
		},
	}
	c.create(t, onlyFrontend)
	c.setCondition(t, v1alpha1, "False", "FailedDiscoveryCheck", `failing or missing response from https://10.0.0.5:8443/apis/wardle.example.com/v1alpha1: Get "https://10.0.0.5:8443/apis/wardle.example.com/v1alpha1": dial tcp 10.0.0.5:8443: i/o timeout`)
	_, results := c.run(t, testNow)
	wantCause(t, results, Fail, CauseNetworkPolicyBlocks, "NetworkPolicy only-frontend in wardle", "on TCP "+port.String())

	// An ipBlock (the control plane's hosts) admits it.
	c = newCluster(t, "", nil)
	c.create(t, &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "wardle", Name: "control-plane"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: labels},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				Ports: []networkingv1.NetworkPolicyPort{{Port: &port}},
				From:  []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/24"}}},
			}},
		},
	})
	c.setCondition(t, v1alpha1, "False", "FailedDiscoveryCheck", `dial tcp 10.0.0.5:8443: i/o timeout`)
	_, results = c.run(t, testNow)
	noCause(t, results, CauseNetworkPolicyBlocks)

	// NetworkPolicies do not apply to host-network pods (spec.server.hostNetwork): the
	// policy that blocks above blocks nothing there.
	c = newCluster(t, "", nil)
	d := c.deployment(t)
	d.Spec.Template.Spec.HostNetwork = true
	if err := c.kube.Tracker().Update(appsv1.SchemeGroupVersion.WithResource("deployments"), d, d.Namespace); err != nil {
		t.Fatal(err)
	}
	c.create(t, onlyFrontend.DeepCopy())
	c.setCondition(t, v1alpha1, "False", "FailedDiscoveryCheck", `dial tcp 10.0.0.5:8443: i/o timeout`)
	_, results = c.run(t, testNow)
	noCause(t, results, CauseNetworkPolicyBlocks)
}

// tlsServer serves cert on loopback and returns its port.
func tlsServer(t *testing.T, cert tls.Certificate) int32 {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the doctor hangs up after the handshake
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return int32(p)
}

func (c *cluster) loopbackService(t *testing.T, port int32) {
	t.Helper()
	svc, _ := c.kube.CoreV1().Services("wardle").Get(context.Background(), "api", metav1.GetOptions{})
	svc.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "127.0.0.1"}
	if _, err := c.kube.CoreV1().Services("wardle").Update(context.Background(), svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{v1alpha1, v1beta1} {
		a := c.apiService(t, name)
		a.Spec.Service.Port = &port
		c.update(t, a)
	}
}

func (c *cluster) runDialing(t *testing.T) []Result {
	t.Helper()
	targets, err := TargetsFromManifests([]string{c.rendered}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &Doctor{Kube: c.kube, Aggregator: c.agg, Now: testNow, DialEndpoints: true, DialTimeout: 5 * time.Second}
	return d.Run(context.Background(), targets, false)
}

func TestEndpointServesCertificate(t *testing.T) {
	c := newCluster(t, "", nil)
	keyPEM, err := pki.EncodePrivateKeyPEM(c.leaf.Key)
	if err != nil {
		t.Fatal(err)
	}
	good, err := tls.X509KeyPair(pki.EncodeCertPEM(c.leaf.Cert), keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	c.loopbackService(t, tlsServer(t, good))
	results := c.runDialing(t)
	for _, r := range results {
		if r.Cause == CauseEndpointServesOtherCert {
			t.Errorf("the rendered certificate is served: %s", r)
		}
	}
	found := false
	for _, r := range results {
		found = found || (r.Status == OK && strings.Contains(r.Message, "which verifies against the live caBundle for api.wardle.svc"))
	}
	if !found {
		t.Error("no ok line for the served certificate")
	}

	// Another CA's certificate on the port: what the aggregator would see.
	other, err := pki.NewCertificateAuthority("someone-elses-ca", pki.ECDSAP256, testNow, testNow.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := other.NewServingCert(pki.ServingCertRequest{DNSNames: []string{"api.wardle.svc"}, KeyAlgorithm: pki.ECDSAP256, NotAfter: testNow.Add(time.Hour)}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _ := pki.EncodePrivateKeyPEM(leaf.Key)
	bad, err := tls.X509KeyPair(pki.EncodeCertPEM(leaf.Cert), otherKey)
	if err != nil {
		t.Fatal(err)
	}
	c = newCluster(t, "", nil)
	c.loopbackService(t, tlsServer(t, bad))
	wantCause(t, c.runDialing(t), Fail, CauseEndpointServesOtherCert, `issuer "someone-elses-ca"`, "does not verify against the live caBundle")
}

func certificate(ns, name, status, reason string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
		"metadata": map[string]any{"namespace": ns, "name": name},
		"status":   map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": status, "reason": reason, "message": "issuer wardle-ca not found"}}},
	}}
}

func cainjector(args ...string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "cert-manager", Name: "cert-manager-cainjector", Labels: map[string]string{"app.kubernetes.io/name": "cainjector"}},
		Spec:       appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "cainjector", Args: args}}}}},
	}
}

func TestCertManagerCauses(t *testing.T) {
	from := func(c *cluster) string {
		return c.apiService(t, v1alpha1).Annotations[keys.CertManagerInjectAnnotation]
	}
	newDyn := func(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
		return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{certificateResource: "CertificateList"}, objs...)
	}

	c := newCluster(t, "cert-manager", nil)
	ns, name, _ := strings.Cut(from(c), "/")
	c.dynamic = newDyn(certificate(ns, name, "False", "DoesNotExist"))
	c.create(t, cainjector())
	_, results := c.run(t, testNow)
	wantCause(t, results, Fail, CauseCertManagerNotReady, "Certificate "+ns+"/"+name+" is not Ready (False DoesNotExist: issuer wardle-ca not found)")
	noCause(t, results, CauseCertManagerNoCAInjector)

	c = newCluster(t, "cert-manager", nil)
	c.dynamic = newDyn(certificate(ns, name, "True", "Ready"))
	c.create(t, cainjector())
	_, results = c.run(t, testNow)
	wantCause(t, results, Fail, CauseCertManagerNotInjecting, "the caBundle is empty although cert-manager.io/inject-ca-from names a Ready Certificate and cainjector cert-manager/cert-manager-cainjector runs")

	c = newCluster(t, "cert-manager", nil)
	c.dynamic = newDyn(certificate(ns, name, "True", "Ready"))
	c.create(t, cainjector("--enable-apiservices-injectable=false"))
	_, results = c.run(t, testNow)
	wantCause(t, results, Fail, CauseCertManagerNotInjecting, "--enable-apiservices-injectable=false")
}

func TestEmptyDiscovery(t *testing.T) {
	c := newCluster(t, "", nil)
	disc := c.kube.Discovery().(*fakediscovery.FakeDiscovery)
	disc.Resources[2].APIResources = nil
	_, results := c.run(t, testNow)
	r := wantCause(t, results, Warn, CauseEmptyDiscovery, "GET /apis/wardle.example.com/v1beta1 lists no resources")
	if r.What != "APIService "+v1beta1 {
		t.Errorf("finding on %s", r.What)
	}
}

func TestNamespaceStuckTerminating(t *testing.T) {
	c := newCluster(t, "", nil)
	c.setCondition(t, v1beta1, "False", "MissingEndpoints", "no endpoints")
	now := metav1.NewTime(testNow.Add(-time.Hour))
	c.create(t, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "team-a", DeletionTimestamp: &now, Finalizers: []string{"kubernetes"}},
		Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
		Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating, Conditions: []corev1.NamespaceCondition{{
			Type: corev1.NamespaceDeletionDiscoveryFailure, Status: corev1.ConditionTrue, Reason: "DiscoveryFailed",
			Message: "Discovery failed for some groups, 1 failing: unable to retrieve the complete list of server APIs: wardle.example.com/v1beta1: stale GroupVersion discovery: wardle.example.com/v1beta1",
		}}},
	}, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-b"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}})
	_, results := c.run(t, testNow)
	r := wantCause(t, results, Fail, CauseNamespaceTerminates, "blocked by unavailable APIService "+v1beta1, "kubectl delete apiservice "+v1beta1)
	if r.What != "Namespace team-a" {
		t.Errorf("finding on %s", r.What)
	}
}

func TestFlapping(t *testing.T) {
	c := newCluster(t, "", nil)
	n := 0
	c.agg.PrependReactor("list", "apiservices", func(k8stesting.Action) (bool, runtime.Object, error) {
		n++
		list := &apiregv1.APIServiceList{}
		for _, name := range []string{v1alpha1, v1beta1} {
			o, err := c.agg.Tracker().Get(apiregv1.SchemeGroupVersion.WithResource("apiservices"), "", name)
			if err != nil {
				return true, nil, err
			}
			a := o.(*apiregv1.APIService).DeepCopy()
			if name == v1alpha1 && n%2 == 0 {
				a.Status.Conditions[0] = apiregv1.APIServiceCondition{Type: apiregv1.Available, Status: apiregv1.ConditionFalse, Reason: "FailedDiscoveryCheck", Message: "context deadline exceeded"}
			}
			list.Items = append(list.Items, *a)
		}
		return true, list, nil
	})
	targets, err := TargetsFromManifests([]string{c.rendered}, nil)
	if err != nil {
		t.Fatal(err)
	}
	slept := 0
	d := &Doctor{Kube: c.kube, Aggregator: c.agg, Now: testNow, Watch: 10 * time.Second, WatchInterval: time.Second,
		Sleep: func(context.Context, time.Duration) error { slept++; return nil }}
	results := d.Run(context.Background(), targets, false)
	r := wantCause(t, results, Warn, CauseFlapping, "FailedDiscoveryCheck: context deadline exceeded")
	if r.What != "APIService "+v1alpha1 || slept != 9 {
		t.Errorf("finding on %s after %d sleeps", r.What, slept)
	}
	noCauseOn(t, results, CauseFlapping, "APIService "+v1beta1)
}

func noCauseOn(t *testing.T, results []Result, cause, what string) {
	t.Helper()
	for _, r := range results {
		if r.Cause == cause && r.What == what {
			t.Errorf("unexpected finding: %s", r)
		}
	}
}

func TestConflictingProvider(t *testing.T) {
	// aggapi's manifests, but Helm installed the live APIService.
	c := newCluster(t, "", nil)
	a := c.apiService(t, v1alpha1)
	delete(a.Labels, keys.OwnerLabel)
	a.Labels[keys.ManagedByLabel] = "Helm"
	a.Annotations = map[string]string{"meta.helm.sh/release-name": "wardle", "meta.helm.sh/release-namespace": "wardle"}
	c.update(t, a)
	_, results := c.run(t, testNow)
	wantCause(t, results, Fail, CauseConflictingProvider, "the manifests given are aggapi (config wardle)'s, but the live APIService is managed by Helm release wardle/wardle",
		"but the Service it points at by aggapi (config wardle)")
	noCauseOn(t, results, CauseConflictingProvider, "APIService "+v1beta1)

	// Discovered: no manifests, the Service says another installer.
	_, results = c.runTargets(t, testNow, nil, true)
	wantCause(t, results, Fail, CauseConflictingProvider, "the APIService is managed by Helm release wardle/wardle, but the Service it points at by aggapi (config wardle)")
}

func TestInsecureSkipTLSVerifyWithCABundle(t *testing.T) {
	c := newCluster(t, "", nil)
	targets, err := TargetsFromManifests([]string{c.rendered}, nil)
	if err != nil {
		t.Fatal(err)
	}
	targets[0].Rendered.Spec.InsecureSkipTLSVerify = true
	_, results := c.runTargets(t, testNow, targets, false)
	wantCause(t, results, Fail, CauseInsecureSkipTLSVerifyCABundle, "sets insecureSkipTLSVerify together with a caBundle")
}

func TestFrontProxyNotAllowed(t *testing.T) {
	c := newCluster(t, "", nil)
	c.setCondition(t, v1alpha1, "False", "FailedDiscoveryCheck",
		`failing or missing response from https://10.0.0.5:8443/apis/wardle.example.com/v1alpha1: bad status from https://10.0.0.5:8443/apis/wardle.example.com/v1alpha1: 401`)
	_, results := c.run(t, testNow)
	wantCause(t, results, Fail, CauseFrontProxyNotAllowed, "requestheader-allowed-names [front-proxy-client]")
}
