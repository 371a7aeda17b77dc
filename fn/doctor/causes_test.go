package doctor

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"

	"github.com/aggapi/aggapi/fn/pki"
)

// TestExplainIDs: the cause id of each reason and message the aggregator writes.
func TestExplainIDs(t *testing.T) {
	ref := Ref{APIService: v1alpha1, Namespace: "wardle", Service: "api", Port: 443}
	const url = "https://10.0.0.5:8443/apis/wardle.example.com/v1alpha1"
	for _, tc := range []struct{ reason, message, id string }{
		{"", "", CauseNotReported},
		{"SomethingNew", "?", CauseUnknownReason},
		{"ServiceNotFound", `service/api in "wardle" is not present`, CauseServiceNotFound},
		{"ServiceAccessError", "boom", CauseInformersTransient},
		{"EndpointsAccessError", "boom", CauseInformersTransient},
		{"ServicePortError", `service/api in "wardle" is not listening on port 443`, CauseServicePortMissing},
		{"EndpointsNotFound", `cannot find endpointslices for service/api in "wardle"`, CauseEndpointsNotFound},
		{"MissingEndpoints", `endpointslices for service/api in "wardle" have no addresses with port name "https"`, CauseNoReadyEndpoints},
		{"FailedDiscoveryCheck", url + `: x509: certificate signed by unknown authority`, CauseX509UnknownAuthority},
		{"FailedDiscoveryCheck", url + `: x509: certificate has expired or is not yet valid: current time`, CauseX509Expired},
		{"FailedDiscoveryCheck", url + `: x509: certificate is valid for other.wardle.svc, not api.wardle.svc`, CauseX509WrongName},
		{"FailedDiscoveryCheck", url + `: tls: failed to verify certificate: x509: negative serial number`, CauseX509Invalid},
		{"FailedDiscoveryCheck", `dial tcp 10.0.0.5:8443: connect: connection refused`, CauseConnectionRefused},
		{"FailedDiscoveryCheck", `dial tcp: lookup backend.example.com: no such host`, CauseBackendNameUnresolved},
		{"FailedDiscoveryCheck", `http: server gave HTTP response to HTTPS client`, CausePlainHTTP},
		{"FailedDiscoveryCheck", url + `: EOF`, CauseDiscoveryFailed},
		{"FailedDiscoveryCheck", `bad status from ` + url + `: 418`, CauseDiscoveryFailed},
		{"FailedDiscoveryCheck", `bad status from ` + url + `: 404`, CauseGroupVersionNotServed},
		{"FailedDiscoveryCheck", `bad status from ` + url + `: 500`, CauseServerUnhealthy},
		{"FailedDiscoveryCheck", `Get "` + url + `": Address is not allowed`, CauseAddressNotAllowed},
	} {
		if got := Explain(tc.reason, tc.message, ref); got.ID != tc.id {
			t.Errorf("Explain(%q, %q) = %q, want %q", tc.reason, tc.message, got.ID, tc.id)
		}
	}
}

func TestCredentialsRejected(t *testing.T) {
	c := newCluster(t, "", nil)
	c.kube.PrependReactor("get", "resource", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewUnauthorized("token expired")
	})
	_, results := c.run(t, testNow)
	wantCause(t, results, Fail, CauseCredentialsRejected, "refresh the credentials")
}

func TestNoAPIServices(t *testing.T) {
	c := newCluster(t, "", nil)
	for _, name := range []string{v1alpha1, v1beta1} {
		if err := c.agg.ApiregistrationV1().APIServices().Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.agg.ApiregistrationV1().APIServices().Create(context.Background(), &apiregv1.APIService{ObjectMeta: metav1.ObjectMeta{Name: "v1.apps"},
		Spec: apiregv1.APIServiceSpec{Group: "apps", Version: "v1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, results := c.runTargets(t, testNow, nil, true)
	wantCause(t, results, Warn, CauseNoAPIServices, "all 1 are the kube-apiserver's own")
}

func TestRequestHeaderCA(t *testing.T) {
	c := newCluster(t, "", nil)
	// The front-proxy CA of the fake cluster lives ten years from testNow.
	_, results := c.run(t, testNow.Add(10*365*24*time.Hour-10*24*time.Hour))
	wantCause(t, results, Warn, CauseRequestHeaderCAExpiring, `the request-header CA "front-proxy-ca" expires`)
	_, results = c.run(t, testNow.Add(11*365*24*time.Hour))
	wantCause(t, results, Fail, CauseRequestHeaderCAExpired, `the request-header CA "front-proxy-ca" expired`)

	c = newCluster(t, "", func(c *cluster) {
		cm, _ := c.kube.CoreV1().ConfigMaps(authConfigMapNS).Get(context.Background(), authConfigMapName, metav1.GetOptions{})
		delete(cm.Data, "requestheader-username-headers")
		_, _ = c.kube.CoreV1().ConfigMaps(authConfigMapNS).Update(context.Background(), cm, metav1.UpdateOptions{})
	})
	_, results = c.run(t, testNow)
	wantCause(t, results, Warn, CauseRequestHeaderIncomplete, "has no requestheader-username-headers")
}

func TestLiveAPIServiceCauses(t *testing.T) {
	c := newCluster(t, "", nil)
	a := c.apiService(t, v1alpha1)
	a.Spec.CABundle, a.Spec.InsecureSkipTLSVerify = nil, true
	c.update(t, a)
	a = c.apiService(t, v1beta1)
	a.Spec.CABundle = nil
	a.Status.Conditions = nil
	c.update(t, a)
	_, results := c.run(t, testNow)
	wantCause(t, results, Fail, CauseInsecureSkipTLSVerify, "the kube-aggregator accepts any server at wardle/api")
	wantCause(t, results, Fail, CauseCABundleEmpty, "the live APIService has no caBundle")
	wantCause(t, results, Warn, CauseNotReported, "no Available condition yet")
}

func TestServingCertUnreadable(t *testing.T) {
	c := newCluster(t, "", nil)
	other, err := pki.NewCertificateAuthority("other", pki.ECDSAP256, testNow, testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := pki.EncodePrivateKeyPEM(other.Key)
	sec, err := c.kube.CoreV1().Secrets("wardle").Get(context.Background(), "wardle-serving-cert", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sec.Data[corev1.TLSPrivateKeyKey] = keyPEM
	if _, err := c.kube.CoreV1().Secrets("wardle").Update(context.Background(), sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, results := c.run(t, testNow)
	wantCause(t, results, Fail, CauseServingCertUnreadable, "tls.key does not match tls.crt")
}

func TestNoServingPods(t *testing.T) {
	c := newCluster(t, "", func(c *cluster) {
		svc, _ := c.kube.CoreV1().Services("wardle").Get(context.Background(), "api", metav1.GetOptions{})
		svc.Spec.Selector = map[string]string{"app": "nobody"}
		_, _ = c.kube.CoreV1().Services("wardle").Update(context.Background(), svc, metav1.UpdateOptions{})
	})
	_, results := c.run(t, testNow)
	wantCause(t, results, Fail, CauseNoServingPods, "no Deployment in wardle has pods that Service wardle/api selects (app=nobody)")
}
