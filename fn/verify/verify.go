package verify

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/keys"
	"github.com/aggapi/aggapi/fn/pki"
	"github.com/aggapi/aggapi/fn/sops"
)

// Severity of a finding.
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Finding is one problem, tied to the object it was found on.
type Finding struct {
	Severity Severity
	Object   string
	Message  string
}

func (f Finding) String() string { return fmt.Sprintf("%s: %s: %s", f.Severity, f.Object, f.Message) }

// Options tune the checks.
type Options struct {
	// Now is the time certificates are checked at.
	Now time.Time
	// WarnWithin warns about certificates that expire within it.
	WarnWithin time.Duration
	// Timings are the renewBefore and overlap of each config by name (--config);
	// DefaultTiming serves the others.
	Timings       map[string]Timing
	DefaultTiming Timing
}

// Report is the outcome of Manifests.
type Report struct {
	APIServices int
	Findings    []Finding
	// Schedules say when each API's serving certificate is renewed (mode generate).
	Schedules []Schedule
}

// Errors counts the findings of severity error.
func (r Report) Errors() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == Error {
			n++
		}
	}
	return n
}

// Manifests checks every APIService in nodes (which it leaves as they are).
func Manifests(nodes []*yaml.RNode, opt Options) Report {
	set := NewSet()
	for _, n := range nodes {
		set.Add(n.Copy())
	}
	return set.Check(opt)
}

// Check checks every APIService in the set.
func (s *Set) Check(opt Options) Report {
	s.memo = map[string]memoized{}
	s.schedules, s.scheduleOrder = map[string]*Schedule{}, nil
	var r Report
	for _, b := range s.apiServices {
		api := decode(b)
		if api == nil {
			continue
		}
		r.APIServices++
		c := &checker{ix: s, opt: opt, api: api, object: "APIService " + api.GetName()}
		c.check()
		r.Findings = append(r.Findings, c.findings...)
	}
	r.Schedules = s.schedulesOf()
	switch {
	case r.APIServices > 0:
	case len(s.workloads) > 0:
		// A render whose versions all set createAPIService: false has its server and no
		// APIService: another provider's APIService must point at it and trust its CA.
		r.Findings = append(r.Findings, Finding{Warning, "manifests", "no APIService found, only servers: nothing to check the trust chain of (every version sets createAPIService: false?); the APIService that points at such a server must trust its CA"})
	default:
		r.Findings = append(r.Findings, Finding{Error, "manifests", "no APIService found: was the function skipped? (kustomize needs --enable-alpha-plugins --enable-exec; kubectl kustomize cannot run it)"})
	}
	return r
}

// memoized is a check's result and findings, replayed for the next object that shares it.
type memoized struct {
	value    any
	findings []Finding
}

// once runs check for the first object with this key and replays its findings, on this
// object, for the next ones.
func (c *checker) once(key string, check func(*checker) any) any {
	m, ok := c.ix.memo[key]
	if !ok {
		sub := &checker{ix: c.ix, opt: c.opt, api: c.api, object: c.object}
		m = memoized{value: check(sub), findings: sub.findings}
		c.ix.memo[key] = m
	}
	for _, f := range m.findings {
		f.Object = c.object
		c.findings = append(c.findings, f)
	}
	return m.value
}

type checker struct {
	ix       *Set
	opt      Options
	api      *yaml.RNode
	object   string
	findings []Finding
}

func (c *checker) errorf(format string, args ...any) {
	c.findings = append(c.findings, Finding{Error, c.object, fmt.Sprintf(format, args...)})
}

func (c *checker) warnf(format string, args ...any) {
	c.findings = append(c.findings, Finding{Warning, c.object, fmt.Sprintf(format, args...)})
}

// The annotations that have the cluster inject the caBundle.
const (
	injectCertManager = keys.CertManagerInjectAnnotation
	injectOpenShift   = keys.OpenShiftInjectAnnotation
)

// annotation reads one annotation; unlike kyaml's GetAnnotations it does not panic
// when the annotations are not a mapping.
func annotation(n *yaml.RNode, key string) string { return str(n, "metadata", "annotations", key) }

func str(n *yaml.RNode, path ...string) string {
	v, err := n.Pipe(yaml.Lookup(path...))
	if err != nil || v == nil {
		return ""
	}
	return yaml.GetValue(v)
}

func (c *checker) check() {
	api := c.api
	group, version := str(api, "spec", "group"), str(api, "spec", "version")
	if want := version + "." + group; api.GetName() != want {
		c.errorf("the name must be <version>.<group> (%s)", want)
	}
	// Set.Add wrote kubectl's reading of it: true however YAML spells it (yes, On...).
	switch skip := str(api, "spec", "insecureSkipTLSVerify"); skip {
	case "true":
		c.errorf("insecureSkipTLSVerify is set: the aggregator would accept any server; give a caBundle instead")
	case "", "false":
	default:
		c.errorf("insecureSkipTLSVerify is %s, not a boolean: the API server refuses the APIService (want false, or leave it out)", skip)
	}
	svcName, ns := str(api, "spec", "service", "name"), str(api, "spec", "service", "namespace")
	if svcName == "" {
		return // a local APIService, served by the kube-apiserver itself
	}
	port := 443
	if p := str(api, "spec", "service", "port"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			c.errorf("spec.service.port %q is not a port number (1-65535)", p)
			return
		}
		port = n
	}
	serverName := svcName + "." + ns + ".svc"

	bundle, _ := c.once(id("caBundle", str(api, "spec", "caBundle"), str(api, "spec", "insecureSkipTLSVerify"), annotation(api, injectCertManager), annotation(api, injectOpenShift)), func(sub *checker) any { return sub.caBundle() }).([]*x509.Certificate)
	svc := c.ix.get("Service", ns, svcName)
	if svc == nil {
		c.errorf("Service %s/%s is not in the manifests (the APIService would be ServiceNotFound)", ns, svcName)
		return
	}
	if str(svc, "spec", "type") == "ExternalName" {
		c.warnf("Service %s/%s is an ExternalName: the backend is outside the manifests and not checked", ns, svcName)
		return
	}
	targetPort := c.servicePort(svc, port)
	if targetPort == "" {
		return
	}
	dep, _ := c.once(id("backend", svc.GetNamespace(), svc.GetName()), func(sub *checker) any { return sub.backend(svc) }).(*yaml.RNode)
	if dep == nil {
		return
	}
	c.containerPort(dep, targetPort)
	c.rbac(dep)
	c.servingCert(dep, bundle, serverName)
}

func (c *checker) caBundle() []*x509.Certificate {
	raw := str(c.api, "spec", "caBundle")
	if raw == "" {
		switch {
		case annotation(c.api, injectCertManager) != "":
		case annotation(c.api, injectOpenShift) == "true":
		default:
			if str(c.api, "spec", "insecureSkipTLSVerify") != "true" {
				c.errorf("no caBundle and no cert-manager or service-ca injection annotation: the aggregator cannot verify the server (x509: certificate signed by unknown authority)")
			}
		}
		return nil
	}
	pemBytes, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		c.errorf("caBundle is not base64")
		return nil
	}
	certs, err := pki.ParseCertsPEM(pemBytes)
	if err != nil {
		c.errorf("caBundle: %v", err)
		return nil
	}
	for _, ca := range certs {
		switch {
		case !ca.IsCA:
			c.warnf("caBundle holds a certificate that is not a CA (%q)", ca.Subject.CommonName)
		case !c.opt.Now.Before(ca.NotAfter):
			c.errorf("caBundle CA %q expired %s", ca.Subject.CommonName, stamp(ca.NotAfter))
		}
	}
	return certs
}

// servicePort finds the Service port the APIService dials and returns its target port.
func (c *checker) servicePort(svc *yaml.RNode, port int) string {
	ports, _ := svc.Pipe(yaml.Lookup("spec", "ports"))
	if ports != nil {
		elems, _ := ports.Elements()
		for _, p := range elems {
			if str(p, "port") == strconv.Itoa(port) {
				if t := str(p, "targetPort"); t != "" {
					return t
				}
				return strconv.Itoa(port)
			}
		}
	}
	c.errorf("Service %s/%s has no port %d, the port the APIService dials", svc.GetNamespace(), svc.GetName(), port)
	return ""
}

// backend is the Deployment whose pods the Service selects.
func (c *checker) backend(svc *yaml.RNode) *yaml.RNode {
	selector, _ := svc.Pipe(yaml.Lookup("spec", "selector"))
	sel := map[string]string{}
	if selector != nil {
		_ = selector.VisitFields(func(f *yaml.MapNode) error {
			sel[f.Key.YNode().Value] = f.Value.YNode().Value
			return nil
		})
	}
	if len(sel) == 0 {
		c.errorf("Service %s/%s selects no pods", svc.GetNamespace(), svc.GetName())
		return nil
	}
	for _, w := range c.ix.workloads[svc.GetNamespace()] {
		match := true
		for k, v := range sel {
			if l, ok := w.label(k); !ok || l != v {
				match = false
				break
			}
		}
		if match {
			return c.ix.get("Deployment", svc.GetNamespace(), w.name)
		}
	}
	c.errorf("no Deployment in %s has pods that Service %s selects (the APIService would be MissingEndpoints)", svc.GetNamespace(), svc.GetName())
	return nil
}

func (c *checker) containers(dep *yaml.RNode) []*yaml.RNode {
	cs, _ := dep.Pipe(yaml.Lookup("spec", "template", "spec", "containers"))
	if cs == nil {
		return nil
	}
	elems, _ := cs.Elements()
	return elems
}

func (c *checker) containerPort(dep *yaml.RNode, target string) {
	for _, ctr := range c.containers(dep) {
		ports, _ := ctr.Pipe(yaml.Lookup("ports"))
		if ports == nil {
			continue
		}
		elems, _ := ports.Elements()
		for _, p := range elems {
			if str(p, "containerPort") == target || str(p, "name") == target {
				return
			}
		}
	}
	c.errorf("Deployment %s/%s has no container port %s, the Service's targetPort", dep.GetNamespace(), dep.GetName(), target)
}

func (c *checker) rbac(dep *yaml.RNode) {
	sa := str(dep, "spec", "template", "spec", "serviceAccountName")
	if sa == "" {
		sa = "default"
	}
	ns := dep.GetNamespace()
	bound := func(kind, namespace, roleKind, role string) bool {
		return c.ix.bindings[id(kind, namespace, roleKind, role, ns, sa)]
	}
	if !bound("ClusterRoleBinding", "", "ClusterRole", "system:auth-delegator") {
		c.errorf("ServiceAccount %s/%s is not bound to ClusterRole system:auth-delegator: delegated authentication and authorization will be forbidden", ns, sa)
	}
	if !bound("RoleBinding", "kube-system", "Role", "extension-apiserver-authentication-reader") {
		c.errorf("ServiceAccount %s/%s has no RoleBinding in kube-system to extension-apiserver-authentication-reader: the server cannot read the request-header CA", ns, sa)
	}
}

// servingCert checks the certificate in the Secret the pods mount against the caBundle.
func (c *checker) servingCert(dep *yaml.RNode, bundle []*x509.Certificate, serverName string) {
	secretName := ""
	vols, _ := dep.Pipe(yaml.Lookup("spec", "template", "spec", "volumes"))
	if vols != nil {
		elems, _ := vols.Elements()
		for _, v := range elems {
			if s := str(v, "secret", "secretName"); s != "" {
				secret := c.ix.get("Secret", dep.GetNamespace(), s)
				if secret != nil && str(secret, "data", "tls.crt") != "" {
					secretName = s
					key := id("secret", secret.GetNamespace(), s, str(c.api, "spec", "caBundle"), serverName, strconv.FormatBool(c.injected()))
					c.once(key, func(sub *checker) any { sub.checkSecret(secret, bundle, serverName); return nil })
					c.schedule(secret, bundle)
					return
				}
				if secretName == "" {
					secretName = s
				}
			}
		}
	}
	if secretName == "" {
		c.errorf("Deployment %s/%s mounts no Secret: where does the server get its certificate?", dep.GetNamespace(), dep.GetName())
		return
	}
	if bundle != nil && !c.injected() {
		c.warnf("Secret %s/%s is not in the manifests (managed elsewhere?): the serving certificate is not checked against the caBundle", dep.GetNamespace(), secretName)
	}
}

func (c *checker) injected() bool {
	return annotation(c.api, injectCertManager) != "" || annotation(c.api, injectOpenShift) == "true"
}

func (c *checker) checkSecret(secret *yaml.RNode, bundle []*x509.Certificate, serverName string) {
	ref := "Secret " + secret.GetNamespace() + "/" + secret.GetName()
	if how := sops.Encryption(secret); how != "" {
		// Flux decrypts at apply time; ciphertext is not a broken certificate.
		c.warnf("%s is SOPS-encrypted (%s): the serving certificate is not checked here; verify the decrypted render", ref, how)
		return
	}
	fromBase64 := func(k string) []byte {
		b, err := base64.StdEncoding.DecodeString(str(secret, "data", k))
		if err != nil {
			c.errorf("%s: %s is not base64", ref, k)
			return nil
		}
		return b
	}
	crt := fromBase64("tls.crt")
	if crt == nil {
		return // said: not base64
	}
	certs, err := pki.ParseCertsPEM(crt)
	if err != nil {
		c.errorf("%s: tls.crt: %v", ref, err)
		return
	}
	leaf := certs[0]
	keyPEM := fromBase64("tls.key")
	key, err := pki.ParsePrivateKeyPEM(keyPEM)
	switch {
	case keyPEM == nil: // said: not base64
	case err != nil:
		c.errorf("%s: tls.key: %v", ref, err)
	case !pki.KeyMatchesCert(key, leaf):
		c.errorf("%s: tls.key does not match tls.crt", ref)
	}
	if bundle == nil {
		if !c.injected() {
			return
		}
		c.warnf("%s: the caBundle is injected in the cluster; the chain is checked by `aggapi doctor`", ref)
		return
	}
	pool := x509.NewCertPool()
	for _, ca := range bundle {
		pool.AddCert(ca)
	}
	intermediates := x509.NewCertPool()
	for _, extra := range certs[1:] {
		intermediates.AddCert(extra)
	}
	_, err = leaf.Verify(x509.VerifyOptions{DNSName: serverName, Roots: pool, Intermediates: intermediates, CurrentTime: c.opt.Now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		c.errorf("%s: tls.crt does not verify against the caBundle for %s: %v (the APIService would be FailedDiscoveryCheck)", ref, serverName, err)
		return
	}
	switch left := leaf.NotAfter.Sub(c.opt.Now); {
	case left < c.opt.WarnWithin:
		c.warnf("%s: the serving certificate expires %s, in %s: re-render to renew it", ref, stamp(leaf.NotAfter), left.Round(time.Hour))
	}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Sort orders findings by object, then severity, then message, for stable output.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Object != fs[j].Object {
			return fs[i].Object < fs[j].Object
		}
		if fs[i].Severity != fs[j].Severity {
			return fs[i].Severity < fs[j].Severity
		}
		return fs[i].Message < fs[j].Message
	})
}
