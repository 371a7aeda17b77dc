package doctor

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	aggfake "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset/fake"

	"github.com/aggapi/aggapi/fn/pki"
)

// bigCluster is a fake cluster of servers servers, each in its own namespace behind
// one Service, with two APIServices each (every tenth unavailable); installers vary.
func bigCluster(tb testing.TB, servers int) (*kubefake.Clientset, *aggfake.Clientset) {
	tb.Helper()
	ca, err := pki.NewCertificateAuthority("bench-ca", pki.ECDSAP256, testNow, testNow.Add(10*365*24*time.Hour))
	if err != nil {
		tb.Fatal(err)
	}
	caPEM := pki.EncodeCertPEM(ca.Cert)
	kubeObjs := []runtime.Object{authConfigMap(tb.(*testing.T))}
	var aggObjs []runtime.Object
	var resources []*metav1.APIResourceList
	resources = append(resources, &metav1.APIResourceList{GroupVersion: apiregGroupVersion, APIResources: []metav1.APIResource{{Name: "apiservices"}}})
	for i := range servers {
		ns := fmt.Sprintf("api-%03d", i)
		leaf, err := ca.NewServingCert(pki.ServingCertRequest{DNSNames: []string{"api." + ns + ".svc"}, KeyAlgorithm: pki.ECDSAP256, NotAfter: testNow.Add(365 * 24 * time.Hour)}, testNow)
		if err != nil {
			tb.Fatal(err)
		}
		keyPEM, _ := pki.EncodePrivateKeyPEM(leaf.Key)
		labels := map[string]string{"app": ns}
		meta := metav1.ObjectMeta{Namespace: ns, Labels: map[string]string{}, Annotations: map[string]string{}}
		switch i % 3 {
		case 0:
			meta.Labels["aggapi.dev/owner"] = ns
		case 1:
			meta.Labels["app.kubernetes.io/managed-by"] = "Helm"
			meta.Annotations["meta.helm.sh/release-name"] = ns
		}
		svc, dep, sec := meta, meta, meta
		svc.Name, dep.Name, sec.Name = "api", "server", "serving-cert"
		replicas := int32(1)
		kubeObjs = append(kubeObjs,
			&corev1.Service{ObjectMeta: svc, Spec: corev1.ServiceSpec{ClusterIP: fmt.Sprintf("10.96.%d.%d", i/250, i%250+1), Selector: labels,
				Ports: []corev1.ServicePort{{Name: "https", Port: 443, TargetPort: intstr.FromInt32(8443)}}}},
			&appsv1.Deployment{ObjectMeta: dep, Spec: appsv1.DeploymentSpec{Replicas: &replicas, Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{ServiceAccountName: "server", Containers: []corev1.Container{{Name: "server", Args: []string{"--secure-port=8443"},
					Ports: []corev1.ContainerPort{{Name: "https", ContainerPort: 8443}}}},
					Volumes: []corev1.Volume{{Name: "cert", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "serving-cert"}}}}},
			}}, Status: appsv1.DeploymentStatus{ReadyReplicas: 1}},
			&corev1.Secret{ObjectMeta: sec, Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": pki.EncodeCertPEM(leaf.Cert), "tls.key": keyPEM}},
		)
		for _, v := range []string{"v1", "v2"} {
			group := fmt.Sprintf("g%03d.example.com", i)
			port := int32(443)
			cond := apiregv1.APIServiceCondition{Type: apiregv1.Available, Status: apiregv1.ConditionTrue, Reason: "Passed", Message: "all checks passed"}
			if i%10 == 9 && v == "v1" {
				cond = apiregv1.APIServiceCondition{Type: apiregv1.Available, Status: apiregv1.ConditionFalse, Reason: "FailedDiscoveryCheck",
					Message: fmt.Sprintf("failing or missing response from https://10.96.0.1:443/apis/%s/%s: bad status from https://10.96.0.1:443/apis/%s/%s: 403", group, v, group, v)}
			}
			m := meta
			m.Namespace, m.Name = "", v+"."+group
			aggObjs = append(aggObjs, &apiregv1.APIService{ObjectMeta: m, Spec: apiregv1.APIServiceSpec{
				Group: group, Version: v, CABundle: caPEM, GroupPriorityMinimum: 1000, VersionPriority: 15,
				Service: &apiregv1.ServiceReference{Namespace: ns, Name: "api", Port: &port},
			}, Status: apiregv1.APIServiceStatus{Conditions: []apiregv1.APIServiceCondition{cond}}})
			resources = append(resources, &metav1.APIResourceList{GroupVersion: group + "/" + v, APIResources: []metav1.APIResource{{Name: "things"}}})
		}
	}
	kube := kubefake.NewClientset(kubeObjs...)
	disc := kube.Discovery().(*fakediscovery.FakeDiscovery)
	disc.Resources = resources
	disc.FakedServerVersion = &version.Info{GitVersion: "v1.37.2"}
	allow := func(a k8stesting.Action) (bool, runtime.Object, error) {
		switch o := a.(k8stesting.CreateAction).GetObject().(type) {
		case *authzv1.SelfSubjectAccessReview:
			o = o.DeepCopy()
			o.Status.Allowed = true
			return true, o, nil
		case *authzv1.SubjectAccessReview:
			o = o.DeepCopy()
			o.Status.Allowed = true
			return true, o, nil
		}
		return false, nil, nil
	}
	kube.PrependReactor("create", "selfsubjectaccessreviews", allow)
	kube.PrependReactor("create", "subjectaccessreviews", allow)
	return kube, aggfake.NewClientset(aggObjs...)
}

// requests counts the requests a run makes (the fake clients record each).
func requests(kube *kubefake.Clientset, agg *aggfake.Clientset) int {
	return len(kube.Actions()) + len(agg.Actions())
}

// TestRequestsBounded: on 200 APIServices the doctor's requests grow with the
// servers, not with the APIServices times the objects: one list per namespace and
// kind, one Secret per Deployment, one discovery read per Available APIService, and
// the ServiceAccount reviews only for the unavailable ones. At the client's 200
// requests a second (burst 400) that is a few seconds on a real cluster.
func TestRequestsBounded(t *testing.T) {
	const servers = 100
	kube, agg := bigCluster(t, servers)
	kube.ClearActions()
	agg.ClearActions()
	d := &Doctor{Kube: kube, Aggregator: agg, Now: testNow}
	results := d.Run(context.Background(), nil, true)
	n := requests(kube, agg)
	t.Logf("%d APIServices: %d requests, %d results", 2*servers, n, len(results))
	if limit := 10*servers + 20; n > limit {
		t.Errorf("%d requests for %d APIServices, want at most %d", n, 2*servers, limit)
	}
	if errs := Failures(results); errs != servers/10 {
		t.Errorf("%d errors, want %d (one per unavailable APIService)", errs, servers/10)
	}
}

// BenchmarkDoctor200 runs the doctor over 200 APIServices (100 servers) on fake
// clients: the doctor's own time, and the requests a run sends.
func BenchmarkDoctor200(b *testing.B) {
	kube, agg := bigCluster(&testing.T{}, 100)
	kube.ClearActions()
	agg.ClearActions()
	b.ResetTimer()
	for b.Loop() {
		d := &Doctor{Kube: kube, Aggregator: agg, Now: testNow}
		d.Run(context.Background(), nil, true)
	}
	b.ReportMetric(float64(requests(kube, agg))/float64(b.N), "requests/op")
}
