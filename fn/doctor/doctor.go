package doctor

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	aggregator "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"
)

// Status of a check.
type Status string

// Statuses, in the words printed, from the most to the least severe.
const (
	Fail Status = "FAIL"
	Warn Status = "warn"
	// Note says what was not checked and why: not a finding, it changes no exit code.
	Note Status = "note"
	OK   Status = "ok"
)

// rank orders statuses by severity for the report.
func (s Status) rank() int {
	switch s {
	case Fail:
		return 0
	case Warn:
		return 1
	case Note:
		return 2
	}
	return 3
}

// Result is the outcome of one check: what was checked (the object), what was found
// (the evidence), and for a finding its cause, the fix and, for causes in the
// cluster's platform, what to ask its provider.
type Result struct {
	Status Status
	// Cause is the stable kebab-case id of the cause (causes.go); empty for ok.
	Cause   string
	What    string
	Message string
	Fix     string
	// Ask is what to ask the cluster's provider or admin, for causes outside the
	// APIService's own manifests (firewalls, control-plane flags); often empty.
	Ask string
}

func (r Result) String() string {
	s := fmt.Sprintf("%s: %s: %s", r.Status, r.What, r.Message)
	if r.Status == OK {
		return s
	}
	if r.Fix != "" {
		s += " — fix: " + r.Fix
	}
	if r.Ask != "" {
		s += " — ask the provider: " + r.Ask
	}
	if r.Cause != "" {
		s += " [" + r.Cause + "]"
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
	// Owner is the installer the manifests or config say owns the APIService (aggapi's
	// label); nil when they say none.
	Owner *Manager
	// Live is the APIService as listed, when discovered in the cluster.
	Live *apiregv1.APIService
}

// Doctor runs the checks.
type Doctor struct {
	Kube       kubernetes.Interface
	Aggregator aggregator.Interface
	// Dynamic reads cert-manager's Certificates; nil skips them.
	Dynamic dynamic.Interface
	// Now is the time certificates are checked at.
	Now time.Time
	// WarnWithin warns about certificates that expire within it.
	WarnWithin time.Duration
	// Emit, if set, receives every result as soon as it is known.
	Emit func(Result)
	// DialEndpoints makes the doctor dial each ready endpoint (at most
	// MaxEndpointsDialed per Service) for the certificate it serves, each handshake
	// bounded by DialTimeout (default 2s).
	DialEndpoints bool
	DialTimeout   time.Duration
	// Watch samples the Available condition of the checked APIServices every
	// WatchInterval (default 2s) for this long, to catch flapping; 0 does not.
	Watch         time.Duration
	WatchInterval time.Duration
	// Sleep waits between samples; nil uses a timer (tests pass one that returns).
	Sleep func(context.Context, time.Duration) error

	results []Result

	// Read once per run.
	cache           map[string]*nsLists
	permissions     map[string]permissionResult
	secretLeaves    map[string]*x509.Certificate
	platformRead    bool
	platformName    string
	injectorRead    bool
	injectorName    string
	injectorState   injectorState
	apiServicesRead bool
	apiServices     []apiregv1.APIService
	apiServicesErr  error
	unreachableNet  bool
	allowedNames    string
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

func (d *Doctor) warn(cause, what, fix, format string, args ...any) {
	d.add(Result{Status: Warn, Cause: cause, What: what, Message: fmt.Sprintf(format, args...), Fix: fix})
}

func (d *Doctor) fail(cause, what, fix, format string, args ...any) {
	d.add(Result{Status: Fail, Cause: cause, What: what, Message: fmt.Sprintf(format, args...), Fix: fix})
}

// note says what was not checked, and why.
func (d *Doctor) note(what, format string, args ...any) {
	d.add(Result{Status: Note, Cause: CauseNotChecked, What: what, Message: fmt.Sprintf(format, args...)})
}

// Run checks the cluster and every target. With discover set and no targets, it
// checks every APIService served by a Service instead, whoever installed it.
func (d *Doctor) Run(ctx context.Context, targets []Target, discover bool) []Result {
	d.results = nil
	d.cache, d.permissions, d.secretLeaves = nil, nil, map[string]*x509.Certificate{}
	d.platformRead, d.injectorRead, d.apiServicesRead, d.unreachableNet = false, false, false, false
	d.apiServices, d.apiServicesErr, d.allowedNames = nil, nil, ""
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
	var names []string
	for _, t := range targets {
		d.checkAPIService(ctx, t)
		names = append(names, t.Name)
	}
	d.checkTerminatingNamespaces(ctx)
	d.watchAvailability(ctx, names, d.Watch, d.WatchInterval)
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
