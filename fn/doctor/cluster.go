package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"

	"github.com/aggapi/aggapi/fn/keys"
	"github.com/aggapi/aggapi/fn/pki"
)

const (
	apiregGroupVersion = "apiregistration.k8s.io/v1"
	authConfigMapNS    = "kube-system"
	authConfigMapName  = "extension-apiserver-authentication"

	// The kube-apiserver flags of the aggregation layer, and who makes them.
	aggregationFlagsFix = "start the kube-apiserver with --requestheader-client-ca-file, --requestheader-allowed-names, " +
		"--requestheader-username-headers=X-Remote-User, --requestheader-group-headers=X-Remote-Group, " +
		"--requestheader-extra-headers-prefix=X-Remote-Extra-, --proxy-client-cert-file and --proxy-client-key-file " +
		"(`aggapi aggregation-layer --dir DIR` makes the files and prints the flags; kubeadm sets them)"
)

// checkAPIServiceAPI is check 1: discovery serves apiregistration.k8s.io/v1 with
// apiservices. It also proves the cluster is reachable with the credentials; it
// returns false when nothing else is worth trying.
func (d *Doctor) checkAPIServiceAPI(ctx context.Context) bool {
	const what = "APIService API"
	disc := discovery.ToDiscoveryInterfaceWithContext(d.Kube.Discovery())
	version := ""
	v, err := disc.ServerVersionWithContext(ctx)
	var status apierrors.APIStatus
	switch {
	case err == nil:
		version = v.GitVersion
	case !errors.As(err, &status):
		// Not an answer from an API server: do not wait for a second timeout.
		d.fail(CauseClusterUnreachable, "cluster", "check --kubeconfig / --context (or $KUBECONFIG) and that the kube-apiserver is reachable from here",
			"cannot reach the cluster: %v", unreachable(err))
		return false
	}
	list, err := disc.ServerResourcesForGroupVersionWithContext(ctx, apiregGroupVersion)
	switch {
	case err == nil:
	case apierrors.IsNotFound(err):
		d.fail(CauseAPIServiceAPIMissing, what, "use a kube-apiserver with its built-in kube-aggregator (every release since 1.10); a proxy in front of it must pass /apis/apiregistration.k8s.io through",
			"%s is not served by the cluster%s", apiregGroupVersion, at(version))
		return true // the other checks still say something useful
	case apierrors.IsUnauthorized(err):
		d.fail(CauseCredentialsRejected, "cluster", "refresh the credentials of the kubeconfig's user (or choose another with --context / --kubeconfig)",
			"the cluster rejects the credentials: %v", err)
		return false
	default:
		d.fail(CauseClusterUnreachable, "cluster", "check --kubeconfig / --context (or $KUBECONFIG) and that the kube-apiserver is reachable from here",
			"cannot reach the cluster: %v", unreachable(err))
		return false
	}
	for _, r := range list.APIResources {
		if r.Name == "apiservices" {
			d.ok(what, "%s serves apiservices%s", apiregGroupVersion, at(version))
			return true
		}
	}
	d.fail(CauseAPIServiceAPIMissing, what, "use a kube-apiserver with its built-in kube-aggregator",
		"%s is served but has no apiservices resource%s", apiregGroupVersion, at(version))
	return true
}

func at(version string) string {
	if version == "" {
		return ""
	}
	return " (kube-apiserver " + version + ")"
}

// unreachable shortens the usual transport errors a little.
func unreachable(err error) error {
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return fmt.Errorf("timed out: %w", err)
	}
	return err
}

// checkCreatePermission is check 2: a SelfSubjectAccessReview for creating APIServices.
func (d *Doctor) checkCreatePermission(ctx context.Context) {
	const what = "permission"
	who := d.whoAmI(ctx)
	review, err := d.Kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authzv1.SelfSubjectAccessReview{
		Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
			Verb: "create", Group: "apiregistration.k8s.io", Resource: "apiservices",
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		d.warn(CauseDoctorNotAllowed, what, "", "cannot ask whether %s may create apiservices.apiregistration.k8s.io (SelfSubjectAccessReview: %v)", who, err)
		return
	}
	if review.Status.Allowed {
		d.ok(what, "%s may create apiservices.apiregistration.k8s.io", who)
		return
	}
	why := ""
	if review.Status.Reason != "" {
		why = " (" + review.Status.Reason + ")"
	}
	d.fail(CauseCannotCreateAPIServices, what, "apply as a cluster admin, or bind a ClusterRole with create (and get, update, patch, delete) on apiservices.apiregistration.k8s.io to this user",
		"%s may not create apiservices.apiregistration.k8s.io%s: applying the APIServices will be forbidden", who, why)
}

// whoAmI names the caller for messages ("user X"); "the caller" when unknown.
func (d *Doctor) whoAmI(ctx context.Context) string {
	r, err := d.Kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || r.Status.UserInfo.Username == "" {
		return "the caller"
	}
	return "user " + r.Status.UserInfo.Username
}

// checkAuthenticationConfigMap is check 3: the kube-apiserver publishes its
// request-header (front-proxy) CA, which every aggregated API server needs to trust
// the requests the kube-aggregator proxies.
func (d *Doctor) checkAuthenticationConfigMap(ctx context.Context) {
	what := "ConfigMap " + authConfigMapNS + "/" + authConfigMapName
	cm, err := d.Kube.CoreV1().ConfigMaps(authConfigMapNS).Get(ctx, authConfigMapName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		d.fail(CauseRequestHeaderCAMissing, what, aggregationFlagsFix, "does not exist: the kube-apiserver publishes no client CA at all")
		return
	case apierrors.IsForbidden(err):
		d.warn(CauseDoctorNotAllowed, what, "run the doctor as a user who may get configmaps in kube-system (Role extension-apiserver-authentication-reader)",
			"cannot read it: %v", err)
		return
	case err != nil:
		d.warn(CauseClusterUnreachable, what, "", "cannot read it: %v", err)
		return
	}
	caPEM := cm.Data["requestheader-client-ca-file"]
	if strings.TrimSpace(caPEM) == "" {
		d.fail(CauseRequestHeaderCAMissing, what, aggregationFlagsFix,
			"has no requestheader-client-ca-file: the kube-apiserver runs without an aggregation layer, so no aggregated API server can authenticate the requests it proxies")
		return
	}
	cas, err := pki.ParseCertsPEM([]byte(caPEM))
	if err != nil {
		d.fail(CauseRequestHeaderCAMissing, what, aggregationFlagsFix, "requestheader-client-ca-file is not a CA bundle: %v", err)
		return
	}
	var problems []string
	for _, ca := range cas {
		switch left := ca.NotAfter.Sub(d.Now); {
		case left <= 0:
			d.fail(CauseRequestHeaderCAExpired, what, "renew the front-proxy CA and client certificate (`aggapi aggregation-layer --dir DIR` renews them; kubeadm: kubeadm certs renew front-proxy-client) and restart the kube-apiserver",
				"the request-header CA %q expired %s", ca.Subject.CommonName, stamp(ca.NotAfter))
			return
		case left < d.WarnWithin:
			problems = append(problems, fmt.Sprintf("the request-header CA %q expires %s, in %s", ca.Subject.CommonName, stamp(ca.NotAfter), days(left)))
		}
	}
	names := jsonList(cm.Data["requestheader-allowed-names"])
	allowed := "requestheader-allowed-names " + fmt.Sprint(names)
	if len(names) == 0 {
		allowed = "requestheader-allowed-names is empty (any client certificate from that CA may assert users)"
	}
	if h := jsonList(cm.Data["requestheader-username-headers"]); len(h) == 0 {
		d.warn(CauseRequestHeaderIncomplete, what, aggregationFlagsFix,
			"has no requestheader-username-headers: aggregated API servers will not know who proxied requests come from")
	}
	d.allowedNames = allowed
	d.ok(what, "requestheader-client-ca-file holds %d CA(s) (%s); %s", len(cas), caNames(cas), allowed)
	for _, p := range problems {
		d.warn(CauseRequestHeaderCAExpiring, what, "renew the front-proxy CA (`aggapi aggregation-layer --dir DIR` renews inside --renew-before) and restart the kube-apiserver", "%s", p)
	}
}

func jsonList(s string) []string {
	var l []string
	if s == "" || json.Unmarshal([]byte(s), &l) != nil {
		return nil
	}
	return slices.DeleteFunc(l, func(v string) bool { return v == "" })
}

// discoverTargets lists every APIService served by a Service (not the
// kube-apiserver's own, spec.service unset), whoever installed it.
func (d *Doctor) discoverTargets(ctx context.Context) []Target {
	const what = "APIServices"
	list, err := d.listAPIServices(ctx)
	if err != nil {
		d.warn(CauseDoctorNotAllowed, what, "run the doctor as a user who may list apiservices.apiregistration.k8s.io, or give the rendered manifests (-f FILE) or the config (--config FILE)", "cannot list APIServices: %v", err)
		return nil
	}
	var ts []Target
	for i := range list {
		api := &list[i]
		if api.Spec.Service == nil {
			continue
		}
		ts = append(ts, Target{Name: api.Name, Injector: injectorOf(api.Annotations), Source: "the cluster", Live: api})
	}
	if len(ts) == 0 {
		d.warn(CauseNoAPIServices, what, "give the rendered manifests (-f FILE) or the config (--config FILE) of the API you expect",
			"no APIService in the cluster is served by a Service (all %d are the kube-apiserver's own): nothing more to check", len(list))
		return nil
	}
	d.ok(what, "%d APIService(s) served by a Service, of %d in the cluster (no -f or --config given)", len(ts), len(list))
	return ts
}

func injectorOf(ann map[string]string) string {
	switch {
	case ann[keys.CertManagerInjectAnnotation] != "":
		return CertManager
	case ann[keys.OpenShiftInjectAnnotation] == "true":
		return OpenShift
	}
	return ""
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// days renders a duration in days, or hours under two days, or minutes under two hours.
func days(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%dh", int(d.Round(time.Hour).Hours()))
	}
	return fmt.Sprintf("%dm", int(d.Round(time.Minute).Minutes()))
}
