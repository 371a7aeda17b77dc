package doctor

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"

	"github.com/aggapi/aggapi/fn/pki"
)

// checkAPIService is check 4 (the live APIService: who manages it, Available with
// its cause, where it points, its caBundle against the manifests), check 5 (the
// serving certificate behind it, in the Secret and as served) and the checks of what
// serves it (ports, pods, ServiceAccount, NetworkPolicies, discovery).
func (d *Doctor) checkAPIService(ctx context.Context, t Target) {
	what := "APIService " + t.Name
	live := t.Live
	if live == nil {
		var err error
		live, err = d.Aggregator.ApiregistrationV1().APIServices().Get(ctx, t.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			d.fail(CauseAPIServiceNotApplied, what, applyFix(t), "not found in the cluster: the APIService was not applied (or was deleted)")
			return
		case apierrors.IsForbidden(err):
			d.fail(CauseDoctorNotAllowed, what, "run the doctor as a user who may get apiservices.apiregistration.k8s.io", "cannot read it: %v", err)
			return
		case err != nil:
			d.fail(CauseClusterUnreachable, what, "check that the cluster is reachable and run the doctor again", "cannot read it: %v", err)
			return
		}
	}
	if r := t.Rendered; r != nil && r.Spec.InsecureSkipTLSVerify && len(r.Spec.CABundle) > 0 {
		d.fail(CauseInsecureSkipTLSVerifyCABundle, what, "remove insecureSkipTLSVerify from "+t.Source+": with a caBundle the kube-apiserver refuses the object, and without one it trusts any server",
			"%s sets insecureSkipTLSVerify together with a caBundle", t.Source)
	}
	if live.Spec.Service == nil {
		d.ok(what, "served by the kube-apiserver itself (no spec.service)")
		return
	}
	ref := Ref{APIService: t.Name, Namespace: live.Spec.Service.Namespace, Service: live.Spec.Service.Name, Port: portOf(live.Spec.Service.Port)}
	if e := t.Expect; e != nil && (e.Namespace != ref.Namespace || e.Service != ref.Service || e.Port != ref.Port) {
		d.warn(CauseAPIServiceDiffers, what, applyFix(t), "points at Service %s port %d, but %s says %s port %d: not re-applied since the last render, or changed in the cluster",
			ref.service(), ref.Port, t.Source, e.service(), e.Port)
	}
	srv := d.findServer(ctx, ref)
	var svcMeta metav1.Object
	if srv.svc != nil {
		svcMeta = srv.svc
	}
	if c := conflicts(live, svcMeta, t.Owner); len(c) > 0 {
		d.fail(CauseConflictingProvider, what, "keep one installer for "+live.Spec.Group+"/"+live.Spec.Version+": uninstall the other (helm uninstall, kubectl delete -f) and re-apply the one you keep",
			"two installers claim it: %s", strings.Join(c, "; "))
	} else {
		d.ok(what, "managed by %s", managerOf(live))
	}
	if live.Spec.InsecureSkipTLSVerify {
		cause, extra := CauseInsecureSkipTLSVerify, ""
		if len(live.Spec.CABundle) > 0 {
			cause, extra = CauseInsecureSkipTLSVerifyCABundle, " (a caBundle is set too, and ignored)"
		}
		d.fail(cause, what, "remove insecureSkipTLSVerify and give a caBundle: "+applyFix(t),
			"insecureSkipTLSVerify is set%s: the kube-aggregator accepts any server at %s, and sends it every request with the identity of its users", extra, ref.service())
	}
	isAvailable := d.availability(ctx, what, live, srv)
	d.compareCABundle(ctx, what, t, live)
	d.checkPorts(what, srv)
	d.checkPods(ctx, what, srv, isAvailable)
	if !isAvailable {
		d.checkServiceAccounts(ctx, what, srv)
		d.checkNetworkPolicies(ctx, what, srv)
	}
	d.servingCertificate(ctx, what+": serving certificate", t, live, ref)
	d.checkEndpointTLS(ctx, what+": served certificate", live, srv)
	if isAvailable {
		d.checkDiscovery(ctx, what, live)
	}
}

func applyFix(t Target) string {
	if t.Rendered != nil {
		return "apply the rendered manifests (kubectl apply -f " + t.Source + ")"
	}
	return "render and apply the manifests (kustomize build --enable-alpha-plugins --enable-exec ... | kubectl apply -f -)"
}

// availability reports the Available condition the kube-aggregator sets, with the
// likely cause and fix of a failure; it returns whether the APIService is Available.
func (d *Doctor) availability(ctx context.Context, what string, live *apiregv1.APIService, srv *server) bool {
	ref := srv.ref
	ok, cond := available(live)
	if cond == nil {
		diag := Explain("", "", ref)
		d.warn(diag.ID, what, diag.Fix, "no Available condition yet: %s", diag.Cause)
		return false
	}
	msg := oneLine(cond.Message)
	if ok {
		d.ok(what, "Available (%s: %s) → Service %s port %d", cond.Reason, msg, ref.service(), ref.Port)
		return true
	}
	diag := explain(cond.Reason, msg, ref, d.network(ctx, srv))
	if diag.ID == CauseFrontProxyNotAllowed && d.allowedNames != "" {
		diag.Cause += "; " + d.allowedNames
	}
	d.add(Result{Status: Fail, Cause: diag.ID, What: what, Fix: diag.Fix, Ask: diag.Ask,
		Message: fmt.Sprintf("Available=%s (%s): %s; likely cause: %s", cond.Status, cond.Reason, msg, diag.Cause)})
	return false
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// compareCABundle compares the live caBundle with the one of the manifests (or of a
// provided-mode config); injected caBundles are only checked to be there.
func (d *Doctor) compareCABundle(ctx context.Context, what string, t Target, live *apiregv1.APIService) {
	injector := t.Injector
	if injector == "" {
		injector = injectorOf(live.Annotations)
	}
	if injector == CertManager {
		d.checkCertManager(ctx, what, live)
		return
	}
	if injector != "" {
		if len(live.Spec.CABundle) == 0 {
			d.fail(CauseCABundleEmpty, what, injectorFix(injector), "has no caBundle: %s has not injected it yet", injector)
			return
		}
		d.ok(what, "caBundle injected by %s (%s); not compared with %s", injector, bundleNames(live.Spec.CABundle), t.Source)
		return
	}
	if t.CABundle == nil {
		return // nothing to compare with: a generate-mode config makes its CA at render time
	}
	if sameCertificates(live.Spec.CABundle, t.CABundle) {
		d.ok(what, "caBundle matches %s (%s)", t.Source, bundleNames(t.CABundle))
		return
	}
	changedBy := ""
	if m := caBundleManagers(live); len(m) > 0 {
		changedBy = "; field manager(s) of the live caBundle: " + strings.Join(m, ", ")
	}
	d.fail(CauseCABundleMismatch, what, applyFix(t)+"; if it changes again, find what rewrites it: kubectl get apiservice "+t.Name+" --show-managed-fields -o yaml",
		"the live caBundle (%s) differs from the one in %s (%s): something changed it in the cluster, or %s was not applied since it was rendered%s",
		bundleNames(live.Spec.CABundle), t.Source, bundleNames(t.CABundle), t.Source, changedBy)
}

// sameCertificates reports whether two PEM bundles hold the same certificates, in any
// order: a provided CA with a comment before it, CRLF line endings or another order is
// the CA the render normalised into the caBundle. Bundles that do not parse are
// compared as bytes (bar surrounding space).
func sameCertificates(a, b []byte) bool {
	ca, errA := pki.ParseCertsPEM(a)
	cb, errB := pki.ParseCertsPEM(b)
	if errA != nil || errB != nil {
		return errA != nil && errB != nil && bytes.Equal(bytes.TrimSpace(a), bytes.TrimSpace(b))
	}
	set := func(certs []*x509.Certificate) map[string]bool {
		m := make(map[string]bool, len(certs))
		for _, c := range certs {
			m[string(c.Raw)] = true
		}
		return m
	}
	return maps.Equal(set(ca), set(cb))
}

func injectorFix(injector string) string {
	if injector == CertManager {
		return "check cert-manager's cainjector runs (with --enable-apiservices-injectable, the default) and that the Certificate named by the cert-manager.io/inject-ca-from annotation is Ready"
	}
	return "check OpenShift's service-ca operator runs (oc get pods -n openshift-service-ca)"
}

// bundleNames describes a caBundle by its CAs' common names.
func bundleNames(pemBytes []byte) string {
	if len(bytes.TrimSpace(pemBytes)) == 0 {
		return "empty"
	}
	certs, err := pki.ParseCertsPEM(pemBytes)
	if err != nil {
		return "not PEM certificates: " + err.Error()
	}
	return caNames(certs)
}

func caNames(certs []*x509.Certificate) string {
	var ns []string
	for _, c := range certs {
		ns = append(ns, fmt.Sprintf("CA %q until %s", c.Subject.CommonName, c.NotAfter.UTC().Format("2006-01-02")))
	}
	return strings.Join(ns, ", ")
}

// caBundleManagers names the field managers that own spec.caBundle.
func caBundleManagers(api *apiregv1.APIService) []string {
	var out []string
	for _, mf := range api.ManagedFields {
		if mf.FieldsV1 == nil {
			continue
		}
		var fields map[string]map[string]any
		if json.Unmarshal(mf.FieldsV1.Raw, &fields) != nil {
			continue
		}
		if _, ok := fields["f:spec"]["f:caBundle"]; ok {
			m := mf.Manager
			if mf.Operation != "" {
				m += " (" + string(mf.Operation) + ")"
			}
			out = append(out, m)
		}
	}
	return out
}

// servingCertificate is check 5: the live Deployment behind the Service, the TLS
// Secret its pods mount, and its certificate against the live caBundle.
func (d *Doctor) servingCertificate(ctx context.Context, what string, t Target, live *apiregv1.APIService, ref Ref) {
	svc, err := d.service(ctx, ref.Namespace, ref.Service)
	switch {
	case apierrors.IsNotFound(err):
		d.fail(CauseServiceNotFound, what, applyFix(t), "Service %s does not exist", ref.service())
		return
	case err != nil:
		d.warn(CauseDoctorNotAllowed, what, "run the doctor as a user who may get services, deployments and secrets in "+ref.Namespace, "cannot read Service %s: %v", ref.service(), err)
		return
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName && len(svc.Spec.Selector) == 0 {
		d.note(what, "Service %s is an ExternalName (%s): the server runs outside the cluster, the certificate in its Secret is not checked", ref.service(), svc.Spec.ExternalName)
		return
	}
	if len(svc.Spec.Selector) == 0 {
		d.note(what, "Service %s has no selector (its endpoints are managed by hand): the serving certificate is not checked", ref.service())
		return
	}
	deps := d.deployments(ctx, ref.Namespace)
	if err := deps.err; err != nil {
		d.warn(CauseDoctorNotAllowed, what, "run the doctor as a user who may list deployments in "+ref.Namespace, "cannot list Deployments in %s: %v", ref.Namespace, err)
		return
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var matched []*appsv1.Deployment
	for i := range deps.items {
		if sel.Matches(labels.Set(deps.items[i].Spec.Template.Labels)) {
			matched = append(matched, &deps.items[i])
		}
	}
	if len(matched) == 0 {
		d.fail(CauseNoServingPods, what, applyFix(t)+"; the Service's selector must match the pod template's labels",
			"no Deployment in %s has pods that Service %s selects (%s): nothing serves the APIService", ref.Namespace, ref.service(), sel)
		return
	}
	for _, dep := range matched {
		d.deploymentCertificate(ctx, what, t, dep, live, ref)
	}
}

// secretVolumes are the Secrets a pod template mounts, in order, with whether the
// mount is optional.
func secretVolumes(spec corev1.PodSpec) (names []string, optional map[string]bool) {
	optional = map[string]bool{}
	add := func(name string, opt *bool) {
		if name == "" || slices.Contains(names, name) {
			return
		}
		names = append(names, name)
		optional[name] = opt != nil && *opt
	}
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			add(v.Secret.SecretName, v.Secret.Optional)
		}
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.Secret != nil {
					add(s.Secret.Name, s.Secret.Optional)
				}
			}
		}
	}
	return names, optional
}

func (d *Doctor) deploymentCertificate(ctx context.Context, what string, t Target, dep *appsv1.Deployment, live *apiregv1.APIService, ref Ref) {
	depName := "Deployment " + dep.Namespace + "/" + dep.Name
	want := int32(1)
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	if ready := dep.Status.ReadyReplicas; want == 0 || ready < want {
		d.warn(CausePodsNotReady, what, fmt.Sprintf("kubectl -n %s describe deployment %s; kubectl -n %s logs deployment/%s", dep.Namespace, dep.Name, dep.Namespace, dep.Name),
			"%s has %d of %d replica(s) ready", depName, ready, want)
	}
	secrets, optional := secretVolumes(dep.Spec.Template.Spec)
	if len(secrets) == 0 {
		d.note(what, "%s mounts no Secret: where does the server get its certificate? Not checked", depName)
		return
	}
	checked := false
	for _, name := range secrets {
		sec, err := d.secret(ctx, dep.Namespace, name)
		switch {
		case apierrors.IsNotFound(err):
			if optional[name] {
				continue
			}
			d.fail(CauseServingSecretMissing, what, secretFix(t, dep.Namespace, name),
				"Secret %s/%s, mounted by %s, does not exist: its pods cannot start", dep.Namespace, name, depName)
			checked = true
			continue
		case err != nil:
			d.warn(CauseDoctorNotAllowed, what, "run the doctor as a user who may get secrets in "+dep.Namespace, "cannot read Secret %s/%s: %v", dep.Namespace, name, err)
			checked = true
			continue
		}
		if len(sec.Data[corev1.TLSCertKey]) == 0 {
			continue
		}
		checked = true
		d.verifySecret(what, t, depName, sec, live, ref)
	}
	if !checked {
		d.note(what, "none of the Secrets %s mounts (%s) has %s: the serving certificate is not checked", depName, strings.Join(secrets, ", "), corev1.TLSCertKey)
	}
}

func secretFix(t Target, ns, name string) string {
	switch t.Injector {
	case CertManager:
		return fmt.Sprintf("cert-manager writes it: kubectl -n %s describe certificate (is it Ready? is the issuer?)", ns)
	case OpenShift:
		return "OpenShift's service-ca writes it for the Service's service.beta.openshift.io/serving-cert-secret-name annotation: check the annotation and the service-ca operator"
	}
	return fmt.Sprintf("%s (mode provided: create your kubernetes.io/tls Secret %s/%s)", applyFix(t), ns, name)
}

func (d *Doctor) verifySecret(what string, t Target, depName string, sec *corev1.Secret, live *apiregv1.APIService, ref Ref) {
	secName := "Secret " + sec.Namespace + "/" + sec.Name
	renew := "re-render (aggapi renews inside certificate.renewBefore) and " + applyFix(t)
	if t.Injector == CertManager {
		renew = "check the cert-manager Certificate that writes " + secName + " (kubectl -n " + sec.Namespace + " describe certificate)"
	}
	certs, err := pki.ParseCertsPEM(sec.Data[corev1.TLSCertKey])
	if err != nil {
		d.fail(CauseServingCertUnreadable, what, renew, "%s (mounted by %s): tls.crt: %v", secName, depName, err)
		return
	}
	leaf := certs[0]
	d.secretLeaves[ref.service()] = leaf
	if keyPEM := sec.Data[corev1.TLSPrivateKeyKey]; len(keyPEM) > 0 {
		key, err := pki.ParsePrivateKeyPEM(keyPEM)
		switch {
		case err != nil:
			d.fail(CauseServingCertUnreadable, what, renew, "%s: tls.key: %v", secName, err)
			return
		case !pki.KeyMatchesCert(key, leaf):
			d.fail(CauseServingCertUnreadable, what, renew, "%s: tls.key does not match tls.crt: the server cannot start serving", secName)
			return
		}
	}
	if len(bytes.TrimSpace(live.Spec.CABundle)) == 0 {
		fix := "give the APIService the caBundle: " + applyFix(t)
		if t.Injector != "" {
			fix = injectorFix(t.Injector)
		}
		d.fail(CauseCABundleEmpty, what, fix, "the live APIService has no caBundle: the kube-aggregator cannot verify %s", secName)
		return
	}
	roots, err := pki.ParseCertsPEM(live.Spec.CABundle)
	if err != nil {
		d.fail(CauseCABundleMismatch, what, applyFix(t), "the live caBundle: %v", err)
		return
	}
	pool, intermediates := x509.NewCertPool(), x509.NewCertPool()
	for _, ca := range roots {
		pool.AddCert(ca)
	}
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		DNSName: ref.serverName(), Roots: pool, Intermediates: intermediates,
		CurrentTime: d.Now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		diag := explainDiscovery("x509: "+strings.TrimPrefix(err.Error(), "x509: "), ref, Network{})
		d.fail(diag.ID, what, diag.Fix, "tls.crt of %s (mounted by %s) does not verify against the live caBundle (%s) for %s: %v; likely cause: %s",
			secName, depName, bundleNames(live.Spec.CABundle), ref.serverName(), err, diag.Cause)
		return
	}
	// The earliest expiry on the chain that verified: the leaf, or a CA before it.
	expires := leaf.NotAfter
	for _, c := range chains[0] {
		if c.NotAfter.Before(expires) {
			expires = c.NotAfter
		}
	}
	left := expires.Sub(d.Now)
	if left < d.WarnWithin {
		d.warn(CauseServingCertExpiring, what, renew, "%s (mounted by %s): tls.crt for %s verifies against the live caBundle but expires %s, in %s",
			secName, depName, ref.serverName(), stamp(expires), days(left))
		return
	}
	d.ok(what, "%s (mounted by %s): tls.crt for %s verifies against the live caBundle; expires %s (in %s)",
		secName, depName, ref.serverName(), stamp(expires), days(left))
}
