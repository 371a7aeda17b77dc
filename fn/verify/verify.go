package verify

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

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
}

// Report is the outcome of Manifests.
type Report struct {
	APIServices int
	Findings    []Finding
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

type index struct {
	byKind map[string][]*yaml.RNode
}

func (ix index) get(kind, namespace, name string) *yaml.RNode {
	for _, n := range ix.byKind[kind] {
		if n.GetName() == name && n.GetNamespace() == namespace {
			return n
		}
	}
	return nil
}

// Manifests checks every APIService in nodes.
func Manifests(nodes []*yaml.RNode, opt Options) Report {
	ix := index{byKind: map[string][]*yaml.RNode{}}
	for _, n := range nodes {
		ix.byKind[n.GetKind()] = append(ix.byKind[n.GetKind()], n)
	}
	var r Report
	for _, api := range ix.byKind["APIService"] {
		r.APIServices++
		c := &checker{ix: ix, opt: opt, api: api, object: "APIService " + api.GetName()}
		c.check()
		r.Findings = append(r.Findings, c.findings...)
	}
	if r.APIServices == 0 {
		r.Findings = append(r.Findings, Finding{Error, "manifests", "no APIService found: was the function skipped? (kustomize needs --enable-alpha-plugins --enable-exec; kubectl kustomize cannot run it)"})
	}
	return r
}

type checker struct {
	ix       index
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
	if str(api, "spec", "insecureSkipTLSVerify") == "true" {
		c.errorf("insecureSkipTLSVerify is set: the aggregator would accept any server; give a caBundle instead")
	}
	svcName, ns := str(api, "spec", "service", "name"), str(api, "spec", "service", "namespace")
	if svcName == "" {
		return // a local APIService, served by the kube-apiserver itself
	}
	port := 443
	if p := str(api, "spec", "service", "port"); p != "" {
		port, _ = strconv.Atoi(p)
	}
	serverName := svcName + "." + ns + ".svc"

	bundle := c.caBundle()
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
	dep := c.backend(svc)
	if dep == nil {
		return
	}
	c.containerPort(dep, targetPort)
	c.rbac(dep)
	c.servingCert(dep, bundle, serverName)
}

func (c *checker) caBundle() []*x509.Certificate {
	raw := str(c.api, "spec", "caBundle")
	ann := c.api.GetAnnotations()
	if raw == "" {
		switch {
		case ann["cert-manager.io/inject-ca-from"] != "":
		case ann["service.beta.openshift.io/inject-cabundle"] == "true":
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
	for _, d := range c.ix.byKind["Deployment"] {
		if d.GetNamespace() != svc.GetNamespace() {
			continue
		}
		labels, _ := d.Pipe(yaml.Lookup("spec", "template", "metadata", "labels"))
		if labels == nil {
			continue
		}
		match := true
		for k, v := range sel {
			if l, _ := labels.Pipe(yaml.Lookup(k)); l == nil || yaml.GetValue(l) != v {
				match = false
			}
		}
		if match {
			return d
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
		for _, b := range c.ix.byKind[kind] {
			if b.GetNamespace() != namespace || str(b, "roleRef", "kind") != roleKind || str(b, "roleRef", "name") != role {
				continue
			}
			subjects, _ := b.Pipe(yaml.Lookup("subjects"))
			if subjects == nil {
				continue
			}
			elems, _ := subjects.Elements()
			for _, s := range elems {
				if str(s, "kind") == "ServiceAccount" && str(s, "name") == sa && str(s, "namespace") == ns {
					return true
				}
			}
		}
		return false
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
				if secret != nil && secret.GetDataMap()["tls.crt"] != "" {
					secretName = s
					c.checkSecret(secret, bundle, serverName)
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
	ann := c.api.GetAnnotations()
	return ann["cert-manager.io/inject-ca-from"] != "" || ann["service.beta.openshift.io/inject-cabundle"] == "true"
}

func (c *checker) checkSecret(secret *yaml.RNode, bundle []*x509.Certificate, serverName string) {
	ref := "Secret " + secret.GetNamespace() + "/" + secret.GetName()
	if how := sops.Encryption(secret); how != "" {
		// Flux decrypts at apply time; ciphertext is not a broken certificate.
		c.warnf("%s is SOPS-encrypted (%s): the serving certificate is not checked here; verify the decrypted render", ref, how)
		return
	}
	data := secret.GetDataMap()
	decode := func(k string) []byte {
		b, err := base64.StdEncoding.DecodeString(data[k])
		if err != nil {
			c.errorf("%s: %s is not base64", ref, k)
			return nil
		}
		return b
	}
	certs, err := pki.ParseCertsPEM(decode("tls.crt"))
	if err != nil {
		c.errorf("%s: tls.crt: %v", ref, err)
		return
	}
	leaf := certs[0]
	key, err := pki.ParsePrivateKeyPEM(decode("tls.key"))
	switch {
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
