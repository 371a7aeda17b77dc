package doctor

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/kubernetes"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	aggregator "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"
)

// Status of a check.
type Status string

// Statuses, in the words printed.
const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "FAIL"
)

// Result is the outcome of one check: what was checked, what was found, and for a
// warning or failure the fix.
type Result struct {
	Status  Status
	What    string
	Message string
	Fix     string
}

func (r Result) String() string {
	s := fmt.Sprintf("%s: %s: %s", r.Status, r.What, r.Message)
	if r.Fix != "" && r.Status != OK {
		s += " — fix: " + r.Fix
	}
	return s
}

// Injectors that fill an APIService's caBundle in the cluster.
const (
	CertManager = "cert-manager"
	OpenShift   = "openshift"
)

// Target is an APIService to check, and what the manifests or the config expect of it.
type Target struct {
	// Name is the APIService's name, <version>.<group>.
	Name string
	// Expect is the Service the config or manifests point the APIService at; nil if unknown.
	Expect *Ref
	// Rendered is the APIService of the rendered manifests (-f); nil otherwise.
	Rendered *apiregv1.APIService
	// CABundle is the caBundle the manifests or config give, nil when unknown (a
	// config in generate mode: the CA is made at render time) or injected.
	CABundle []byte
	// Injector fills the caBundle in the cluster: CertManager, OpenShift or "".
	Injector string
	// Source names where the target came from, for fixes ("rendered.yaml").
	Source string
}

// Doctor runs the checks.
type Doctor struct {
	Kube       kubernetes.Interface
	Aggregator aggregator.Interface
	// Now is the time certificates are checked at.
	Now time.Time
	// WarnWithin warns about certificates that expire within it.
	WarnWithin time.Duration
	// Emit, if set, receives every result as soon as it is known.
	Emit func(Result)

	results []Result
}

func (d *Doctor) add(r Result) {
	d.results = append(d.results, r)
	if d.Emit != nil {
		d.Emit(r)
	}
}

func (d *Doctor) ok(what, format string, args ...any) {
	d.add(Result{Status: OK, What: what, Message: fmt.Sprintf(format, args...)})
}

func (d *Doctor) warn(what, fix, format string, args ...any) {
	d.add(Result{Status: Warn, What: what, Message: fmt.Sprintf(format, args...), Fix: fix})
}

func (d *Doctor) fail(what, fix, format string, args ...any) {
	d.add(Result{Status: Fail, What: what, Message: fmt.Sprintf(format, args...), Fix: fix})
}

// Run checks the cluster and every target. With discover set and no targets, it
// checks the APIServices labelled aggapi.dev/owner instead.
func (d *Doctor) Run(ctx context.Context, targets []Target, discover bool) []Result {
	d.results = nil
	if d.WarnWithin == 0 {
		d.WarnWithin = 720 * time.Hour
	}
	if d.Now.IsZero() {
		d.Now = time.Now()
	}
	if !d.checkAPIServiceAPI(ctx) {
		return d.results // nothing else can work
	}
	d.checkCreatePermission(ctx)
	d.checkAuthenticationConfigMap(ctx)
	if len(targets) == 0 && discover {
		targets = d.discoverTargets(ctx)
	}
	for _, t := range targets {
		d.checkAPIService(ctx, t)
	}
	return d.results
}

// Failures counts the failed checks of results.
func Failures(results []Result) int {
	n := 0
	for _, r := range results {
		if r.Status == Fail {
			n++
		}
	}
	return n
}
