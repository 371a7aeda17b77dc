package config

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"k8s.io/apimachinery/pkg/util/validation/field"
	cliflag "k8s.io/component-base/cli/flag"
)

// TestTLSValuesAreComponentBases: what spec.server.tls takes is what a k8s.io/apiserver
// server's --tls-min-version and --tls-cipher-suites parse (k8s.io/component-base), and
// the insecure suites it refuses are the ones component-base calls insecure.
func TestTLSValuesAreComponentBases(t *testing.T) {
	for _, v := range []string{TLSVersion12, TLSVersion13} {
		if _, err := cliflag.TLSVersion(v); err != nil {
			t.Errorf("--tls-min-version=%s: %v", v, err)
		}
	}
	ids, err := cliflag.TLSCipherSuites(tls12SuiteNames())
	if err != nil {
		t.Fatalf("--tls-cipher-suites=%s: %v", strings.Join(tls12SuiteNames(), ","), err)
	}
	if len(ids) != len(tls12SuiteNames()) {
		t.Errorf("component-base parsed %d of %d suites", len(ids), len(tls12SuiteNames()))
	}
	for _, name := range cliflag.InsecureTLSCipherNames() {
		api := tlsConfig(name)
		errs := api.validateTLS(field.NewPath("spec", "server"))
		if len(errs) == 0 || !strings.Contains(errs[0].Detail, "insecure") {
			t.Errorf("insecure suite %s: %v, want it refused as insecure", name, errs)
		}
	}
}

// TestTLSSuitesThatHTTP2Refuses: a list validateTLS takes starts golang.org/x/net/http2
// (which every k8s.io/apiserver server configures), and the list it refuses for HTTP/2
// is one http2.ConfigureServer refuses.
func TestTLSSuitesThatHTTP2Refuses(t *testing.T) {
	for _, tc := range []struct {
		suites []string
		ok     bool
	}{
		{[]string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}, true},
		{[]string{"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}, true},
		{[]string{"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"}, false},
	} {
		api := tlsConfig(tc.suites...)
		errs := api.validateTLS(field.NewPath("spec", "server"))
		if (len(errs) == 0) != tc.ok {
			t.Errorf("%v: errors %v, want ok=%v", tc.suites, errs, tc.ok)
		}
		ids, err := cliflag.TLSCipherSuites(tc.suites)
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: ids}}
		if err := http2.ConfigureServer(srv, nil); (err == nil) != tc.ok { //nolint:staticcheck // SA1019: k8s.io/apiserver's secure serving still calls it, and the rule mirrors that call
			t.Errorf("%v: http2.ConfigureServer: %v, want ok=%v", tc.suites, err, tc.ok)
		}
	}
}

// TestTLSSuiteForTheServingKey: an RSA serving key needs an ECDHE_RSA suite, an ECDSA or
// Ed25519 key an ECDHE_ECDSA one; a provided certificate's key is not known.
func TestTLSSuiteForTheServingKey(t *testing.T) {
	ecdsaOnly := []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}
	for _, tc := range []struct {
		mode, alg string
		ok        bool
	}{
		{ModeGenerate, "ECDSA-P256", true}, {ModeGenerate, "Ed25519", true}, {ModeGenerate, "RSA-2048", false},
		{ModeCertManager, "RSA-4096", false}, {ModeProvided, "RSA-2048", true},
	} {
		api := tlsConfig(ecdsaOnly...)
		api.Spec.Certificate.Mode, api.Spec.Certificate.KeyAlgorithm = tc.mode, tc.alg
		errs := api.validateTLS(field.NewPath("spec", "server"))
		if (len(errs) == 0) != tc.ok {
			t.Errorf("%s %s with %v: %v, want ok=%v", tc.mode, tc.alg, ecdsaOnly, errs, tc.ok)
		}
	}
}

func tlsConfig(suites ...string) *AggregatedAPI {
	api := &AggregatedAPI{}
	api.Spec.Server.TLS = &ServerTLS{MinVersion: TLSVersion12, CipherSuites: suites}
	api.Spec.Certificate = Certificate{Mode: ModeGenerate, KeyAlgorithm: DefaultKeyAlgorithm}
	return api
}
