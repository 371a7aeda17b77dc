package config

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The TLS versions of spec.server.tls.minVersion (the schema's enum; TestEnumsMatchGo
// ties them), spelled as k8s.io/component-base's --tls-min-version takes them.
const (
	TLSVersion12 = "VersionTLS12"
	TLSVersion13 = "VersionTLS13"
)

// http2Suites are the suites of which golang.org/x/net/http2's ConfigureServer needs one
// when a server restricts its TLS 1.2 suites: without one, a k8s.io/apiserver server
// fails at start ("missing an HTTP/2-required AES_128_GCM_SHA256 cipher").
var http2Suites = []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}

// validateTLS checks spec.server.tls: a value set reaches a flag, every cipher suite is
// one Go offers for TLS 1.2 and is not insecure, none is listed with minVersion
// VersionTLS13 (Go does not let a TLS 1.3 server choose its suites), and the list still
// lets the server start (HTTP/2) and present its certificate (a suite for the serving
// key's type).
func (a *AggregatedAPI) validateTLS(p *field.Path) field.ErrorList {
	t := a.Spec.Server.TLS
	if t == nil {
		return nil
	}
	var errs field.ErrorList
	if f := a.Spec.Server.Flags; f != nil {
		// A policy passed to no flag would be silently dropped.
		if t.MinVersion != "" && f.TLSMinVersion != nil && *f.TLSMinVersion == "" {
			errs = append(errs, field.Invalid(p.Child("tls", "minVersion"), t.MinVersion, "reaches no flag: spec.server.flags.tlsMinVersion is empty; name the server's flag there"))
		}
		if len(t.CipherSuites) > 0 && f.TLSCipherSuites != nil && *f.TLSCipherSuites == "" {
			errs = append(errs, field.Invalid(p.Child("tls", "cipherSuites"), t.CipherSuites, "reach no flag: spec.server.flags.tlsCipherSuites is empty; name the server's flag there"))
		}
	}
	if len(t.CipherSuites) == 0 {
		return errs
	}
	cp := p.Child("tls", "cipherSuites")
	if t.MinVersion == TLSVersion13 {
		return append(errs, field.Invalid(cp, t.CipherSuites,
			"must be empty with minVersion VersionTLS13: Go's TLS 1.3 suites are fixed and the server ignores the list"))
	}
	secure := map[string]*tls.CipherSuite{}
	for _, s := range tls.CipherSuites() {
		secure[s.Name] = s
	}
	insecure := map[string]bool{}
	for _, s := range tls.InsecureCipherSuites() {
		insecure[s.Name] = true
	}
	var usable []string
	for i, name := range t.CipherSuites {
		s, ok := secure[name]
		switch {
		case insecure[name]:
			errs = append(errs, field.Invalid(cp.Index(i), name, "is an insecure cipher suite (Go's tls.InsecureCipherSuites): a compliance scan flags it"))
		case !ok:
			errs = append(errs, field.NotSupported(cp.Index(i), name, tls12SuiteNames()))
		case !slices.Contains(s.SupportedVersions, tls.VersionTLS12):
			errs = append(errs, field.Invalid(cp.Index(i), name, "is a TLS 1.3 suite: Go's TLS 1.3 suites are fixed, list TLS 1.2 suites only"))
		default:
			usable = append(usable, name)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	if !slices.ContainsFunc(usable, func(n string) bool { return slices.Contains(http2Suites, n) }) {
		errs = append(errs, field.Invalid(cp, t.CipherSuites, fmt.Sprintf(
			"must hold one of %s: the server's HTTP/2 (golang.org/x/net/http2) refuses to start without one", joinOr(http2Suites))))
	}
	if kind := a.servingKeyKind(); kind != "" && !slices.ContainsFunc(usable, func(n string) bool { return suiteSigns(n, kind) }) {
		errs = append(errs, field.Invalid(cp, t.CipherSuites, fmt.Sprintf(
			"has no suite for the serving key (certificate.keyAlgorithm %s needs a TLS_ECDHE_%s_ suite): every TLS 1.2 handshake would fail",
			a.Spec.Certificate.KeyAlgorithm, kind)))
	}
	return errs
}

// servingKeyKind is the key type a TLS 1.2 suite must sign with for the serving key the
// function knows of: ECDSA (Ed25519 signs in the ECDSA suites too) or RSA; empty when
// the key is made elsewhere (provided, openshift).
func (a *AggregatedAPI) servingKeyKind() string {
	c := a.Spec.Certificate
	if c.Mode != ModeGenerate && c.Mode != ModeCertManager {
		return ""
	}
	switch c.KeyAlgorithm {
	case "RSA-2048", "RSA-3072", "RSA-4096":
		return "RSA"
	case "":
		return ""
	}
	return "ECDSA"
}

// suiteSigns tells whether the TLS 1.2 suite authenticates the server with kind's keys
// (TLS_RSA_ suites, key exchange by RSA encryption, are insecure in Go and refused).
func suiteSigns(name, kind string) bool {
	return strings.HasPrefix(name, "TLS_ECDHE_"+kind+"_")
}

// tls12SuiteNames are the secure TLS 1.2 suites Go offers, the values cipherSuites takes.
func tls12SuiteNames() []string {
	var names []string
	for _, s := range tls.CipherSuites() {
		if slices.Contains(s.SupportedVersions, tls.VersionTLS12) {
			names = append(names, s.Name)
		}
	}
	return names
}

func joinOr(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// ifSet is p when set holds, else nil.
func ifSet(set bool, p *field.Path) *field.Path {
	if set {
		return p
	}
	return nil
}
