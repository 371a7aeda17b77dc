package doctor

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"

	"github.com/aggapi/aggapi/fn/keys"
)

var certificateResource = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}

// checkCertManager follows a cert-manager-injected caBundle back to its source: the
// Certificate the inject-ca-from annotation names must be Ready, and cert-manager's
// cainjector must run with APIService injection on.
func (d *Doctor) checkCertManager(ctx context.Context, what string, live *apiregv1.APIService) {
	from := live.Annotations[keys.CertManagerInjectAnnotation]
	empty := len(strings.TrimSpace(string(live.Spec.CABundle))) == 0
	certReady := true
	if ns, name, ok := strings.Cut(from, "/"); ok && d.Dynamic != nil {
		cert, err := d.Dynamic.Resource(certificateResource).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			certReady = false
			d.fail(CauseCertManagerNotReady, what, fmt.Sprintf("create the Certificate %s (aggapi renders it in certificate mode cert-manager), or correct the %s annotation", from, keys.CertManagerInjectAnnotation),
				"the annotation %s names Certificate %s, which does not exist (or cert-manager's CRDs are not installed)", keys.CertManagerInjectAnnotation, from)
		case err != nil:
			d.note(what, "Certificate %s is not checked: %v", from, err)
		default:
			if status, reason, msg := readyCondition(cert); status != "True" {
				certReady = false
				d.fail(CauseCertManagerNotReady, what, fmt.Sprintf("kubectl -n %s describe certificate %s; check its issuer is Ready and cert-manager's controller log", ns, name),
					"Certificate %s is not Ready (%s %s: %s): the Secret and the injected caBundle wait for it", from, status, reason, msg)
			}
		}
	}
	injector, state := d.caInjector(ctx)
	switch {
	case state == injectorMissing && empty:
		d.fail(CauseCertManagerNoCAInjector, what, "install cert-manager with its cainjector (the Helm chart's cainjector.enabled=true)",
			"the caBundle is empty and no cert-manager cainjector Deployment runs in the cluster: nothing will inject it")
	case state == injectorMissing:
		d.warn(CauseCertManagerNoCAInjector, what, "install cert-manager with its cainjector (the Helm chart's cainjector.enabled=true)",
			"no cert-manager cainjector Deployment runs in the cluster: the caBundle will not follow the next CA rotation")
	case state == injectorNotAPIServices:
		d.fail(CauseCertManagerNotInjecting, what, "run cainjector with --enable-apiservices-injectable=true (its default)",
			"cainjector %s runs with --enable-apiservices-injectable=false: it never injects APIServices", injector)
	case empty && certReady:
		d.fail(CauseCertManagerNotInjecting, what, fmt.Sprintf("read cainjector's log (kubectl -n %s logs deployment/%s) for %s; it needs RBAC to update apiservices", namespaceOf(injector), nameOf(injector), live.Name),
			"the caBundle is empty although %s names a Ready Certificate and cainjector %s runs", keys.CertManagerInjectAnnotation, injector)
	case empty:
		// The Certificate's own finding explains the wait.
	default:
		d.ok(what, "caBundle injected by cert-manager (%s)", bundleNames(live.Spec.CABundle))
	}
}

func readyCondition(u *unstructured.Unstructured) (status, reason, message string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Ready" {
			continue
		}
		s, _ := m["status"].(string)
		r, _ := m["reason"].(string)
		msg, _ := m["message"].(string)
		return s, r, oneLine(msg)
	}
	return "Unknown", "NoReadyCondition", "the Certificate has no Ready condition yet"
}

type injectorState int

const (
	injectorRuns injectorState = iota
	injectorMissing
	injectorNotAPIServices
	injectorUnknown
)

// caInjector finds cert-manager's cainjector Deployment (by the labels of its chart
// and of its static manifests), once per run.
func (d *Doctor) caInjector(ctx context.Context) (string, injectorState) {
	if d.injectorRead {
		return d.injectorName, d.injectorState
	}
	d.injectorRead = true
	d.injectorState = injectorMissing
	for _, sel := range []string{"app.kubernetes.io/name=cainjector", "app=cainjector"} {
		deps, err := d.Kube.AppsV1().Deployments("").List(ctx, metav1.ListOptions{LabelSelector: sel, Limit: 10})
		if err != nil {
			d.injectorState = injectorUnknown
			return "", injectorUnknown
		}
		for _, dep := range deps.Items {
			d.injectorName, d.injectorState = dep.Namespace+"/"+dep.Name, injectorRuns
			for _, c := range dep.Spec.Template.Spec.Containers {
				for _, a := range c.Args {
					if a == "--enable-apiservices-injectable=false" {
						d.injectorState = injectorNotAPIServices
					}
				}
			}
			return d.injectorName, d.injectorState
		}
	}
	return "", d.injectorState
}

func namespaceOf(nsName string) string { ns, _, _ := strings.Cut(nsName, "/"); return ns }
func nameOf(nsName string) string      { _, n, _ := strings.Cut(nsName, "/"); return n }
