package importer

import (
	cryptotls "crypto/tls"
	"fmt"
	"slices"
	"strings"

	"github.com/aggapi/aggapi/fn/config"
)

// tlsFlags are the TLS policy flags the function owns: their values become
// spec.server.tls.
var tlsFlags = []string{config.DefaultTLSMinVersionFlag, config.DefaultTLSCipherSuitesFlag}

// tls maps the TLS policy flags onto spec.server.tls, leaving out what aggapi refuses
// (versions below TLS 1.2, Go's insecure suites, suites Go does not offer for TLS 1.2).
func (d *draft) tls(in *installation, flag, value string) {
	sv := &d.api.Spec.Server
	if sv.TLS == nil {
		sv.TLS = &config.ServerTLS{}
	}
	defer func() {
		if t := sv.TLS; t.MinVersion == "" && len(t.CipherSuites) == 0 {
			sv.TLS = nil
		}
	}()
	at := in.deployment.ref()
	if flag == config.DefaultTLSMinVersionFlag {
		switch value {
		case config.TLSVersion12, config.TLSVersion13:
			sv.TLS.MinVersion = value
		default:
			d.note(at, "args", fmt.Sprintf("%s=%s is left out: aggapi takes %s or %s (the server's default is TLS 1.2)", flag, value, config.TLSVersion12, config.TLSVersion13))
		}
		return
	}
	ok, insecure := map[string]bool{}, map[string]bool{}
	for _, s := range cryptotls.CipherSuites() {
		if slices.Contains(s.SupportedVersions, cryptotls.VersionTLS12) {
			ok[s.Name] = true
		}
	}
	for _, s := range cryptotls.InsecureCipherSuites() {
		insecure[s.Name] = true
	}
	var left, unknown []string
	for _, name := range strings.Split(value, ",") {
		name = strings.TrimSpace(name)
		if ok[name+"_SHA256"] && strings.HasSuffix(name, "_CHACHA20_POLY1305") {
			name += "_SHA256" // k8s.io/component-base takes the name without _SHA256 too
		}
		switch {
		case name == "":
		case ok[name]:
			sv.TLS.CipherSuites = append(sv.TLS.CipherSuites, name)
		case insecure[name]:
			left = append(left, name)
		default:
			unknown = append(unknown, name)
		}
	}
	if len(left) > 0 {
		d.note(at, "args", fmt.Sprintf("%s: %s left out of spec.server.tls.cipherSuites: insecure (Go's tls.InsecureCipherSuites), which aggapi refuses", flag, strings.Join(left, ", ")))
	}
	if len(unknown) > 0 {
		d.note(at, "args", fmt.Sprintf("%s: %s left out of spec.server.tls.cipherSuites: not a TLS 1.2 suite Go offers", flag, strings.Join(unknown, ", ")))
	}
}
