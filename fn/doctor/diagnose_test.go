package doctor

import (
	"strings"
	"testing"
)

func TestExplain(t *testing.T) {
	ref := Ref{APIService: "v1alpha1.wardle.example.com", Namespace: "wardle", Service: "api", Port: 443}
	const url = "https://api.wardle.svc:443/apis/wardle.example.com/v1alpha1"
	for _, tc := range []struct {
		name, reason, message string
		ok                    bool
		cause, fix            string // substrings
	}{
		{name: "passed", reason: "Passed", message: "all checks passed", ok: true},
		{name: "local", reason: "Local", message: "Local APIServices are always available", ok: true},
		{
			name: "unknown authority", reason: "FailedDiscoveryCheck",
			message: `failing or missing response from ` + url + `: Get "` + url + `": tls: failed to verify certificate: x509: certificate signed by unknown authority (possibly because of "crypto/ecdsa: verification error" while trying to verify candidate authority certificate "wardle-ca")`,
			cause:   "caBundle does not match the CA of the serving certificate", fix: "re-render and re-apply",
		},
		{
			name: "unknown authority, short", reason: "FailedDiscoveryCheck",
			message: `failing or missing response from ` + url + `: x509: certificate signed by unknown authority`,
			cause:   "caBundle does not match", fix: "which Secret the pods in wardle mount",
		},
		{
			name: "wrong name", reason: "FailedDiscoveryCheck",
			message: `failing or missing response from ` + url + `: Get "` + url + `": tls: failed to verify certificate: x509: certificate is valid for other.wardle.svc, not api.wardle.svc`,
			cause:   "not for api.wardle.svc", fix: "re-render",
		},
		{
			name: "expired", reason: "FailedDiscoveryCheck",
			message: `failing or missing response from ` + url + `: Get "` + url + `": tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2027-01-01T00:00:00Z is after 2026-12-31T00:00:00Z`,
			cause:   "expired", fix: "renews inside renewBefore",
		},
		{
			name: "connection refused", reason: "FailedDiscoveryCheck",
			message: `failing or missing response from https://10.0.0.12:443/apis/wardle.example.com/v1alpha1: Get "https://10.0.0.12:443/apis/wardle.example.com/v1alpha1": dial tcp 10.0.0.12:443: connect: connection refused`,
			cause:   "nothing listens", fix: "targetPort",
		},
		{
			name: "dial timeout", reason: "FailedDiscoveryCheck",
			message: `failing or missing response from ` + url + `: Get "` + url + `": dial tcp 10.0.0.12:443: i/o timeout`,
			cause:   "cannot reach the server", fix: "networkPolicy.apiServerCIDRs",
		},
		{
			name: "client timeout", reason: "FailedDiscoveryCheck",
			message: `failing or missing response from ` + url + `: Get "` + url + `": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
			cause:   "timeout", fix: "apiServerCIDRs",
		},
		{
			name: "aggregator's own timeout", reason: "FailedDiscoveryCheck",
			message: `timed out waiting for ` + url,
			cause:   "timeout", fix: "--enable-aggregator-routing",
		},
		{
			name: "401", reason: "FailedDiscoveryCheck",
			message: `failing or missing response from ` + url + `: bad status from ` + url + `: 401`,
			cause:   "front-proxy client certificate", fix: "extension-apiserver-authentication-reader",
		},
		{
			name: "403", reason: "FailedDiscoveryCheck",
			message: `failing or missing response from ` + url + `: bad status from ` + url + `: 403`,
			cause:   "delegated authorization", fix: "system:auth-delegator",
		},
		{
			name: "404", reason: "FailedDiscoveryCheck",
			message: `failing or missing response from ` + url + `: bad status from ` + url + `: 404`,
			cause:   "does not serve this group and version", fix: "spec.versions",
		},
		{
			name: "503", reason: "FailedDiscoveryCheck",
			message: `failing or missing response from ` + url + `: bad status from ` + url + `: 503`,
			cause:   "HTTP 503", fix: "/readyz",
		},
		{
			name: "plain HTTP", reason: "FailedDiscoveryCheck",
			message: `failing or missing response from ` + url + `: Get "` + url + `": http: server gave HTTP response to HTTPS client`,
			cause:   "plain HTTP", fix: "serve TLS",
		},
		{
			name: "no endpoints while routing to endpoints", reason: "FailedDiscoveryCheck",
			message: `failing or missing response from ` + url + `: service "api" not available: no endpoints available for service "api"`,
			cause:   "no ready pods", fix: "readiness probe",
		},
		{
			name: "dns", reason: "FailedDiscoveryCheck",
			message: `failing or missing response from ` + url + `: dial tcp: lookup backend.example.com: no such host`,
			cause:   "cannot resolve", fix: "ExternalName",
		},
		{
			name: "other discovery failure", reason: "FailedDiscoveryCheck",
			message: "failing or missing response from " + url + ": EOF",
			cause:   "discovery request", fix: "server's log",
		},
		{
			name: "missing endpoints", reason: "MissingEndpoints",
			message: `endpointslices for service/api in "wardle" have no addresses with port name "https"`,
			cause:   "no ready pods behind the Service wardle/api", fix: "kubectl -n wardle get pods",
		},
		{
			name: "endpoints not found", reason: "EndpointsNotFound",
			message: `cannot find endpointslices for service/api in "wardle"`,
			cause:   "no EndpointSlices", fix: "selector",
		},
		{
			name: "service not found", reason: "ServiceNotFound",
			message: `service/api in "wardle" is not present`,
			cause:   "Service wardle/api the APIService names does not exist", fix: "apply the rendered Service wardle/api",
		},
		{
			name: "service access error", reason: "ServiceAccessError",
			message: `service/api in "wardle" cannot be checked due to: boom`,
			cause:   "could not read the Service", fix: "transient",
		},
		{
			name: "endpoints access error", reason: "EndpointsAccessError",
			message: `service/api in "wardle" cannot be checked due to: boom`,
			cause:   "could not read the Service or its EndpointSlices", fix: "kube-apiserver's log",
		},
		{
			name: "service port", reason: "ServicePortError",
			message: `service/api in "wardle" is not listening on port 443`,
			cause:   "has no port 443", fix: "spec.service.port",
		},
		{
			name: "no condition yet", reason: "",
			cause: "not reported", fix: "run the doctor again",
		},
		{
			name: "unknown reason", reason: "SomethingNew", message: "?",
			cause: `"SomethingNew"`, fix: "kubectl describe apiservice v1alpha1.wardle.example.com",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Explain(tc.reason, tc.message, ref)
			if got.OK != tc.ok {
				t.Fatalf("OK = %v, want %v (%+v)", got.OK, tc.ok, got)
			}
			if tc.ok {
				return
			}
			if !strings.Contains(got.Cause, tc.cause) {
				t.Errorf("cause %q does not contain %q", got.Cause, tc.cause)
			}
			if !strings.Contains(got.Fix, tc.fix) {
				t.Errorf("fix %q does not contain %q", got.Fix, tc.fix)
			}
			if strings.Contains(got.Fix, "\n") || strings.Contains(got.Cause, "\n") {
				t.Errorf("cause and fix must be one line: %+v", got)
			}
		})
	}
}
