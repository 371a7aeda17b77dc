package doctor

// Cause ids: stable, kebab-case, one per cause the doctor names. Automation keys on
// them (`-o json`), and docs/cli.md has a row for each (TestCausesDocumented).
const (
	// The cluster and the caller.
	CauseClusterUnreachable      = "cluster-unreachable"
	CauseCredentialsRejected     = "credentials-rejected"
	CauseAPIServiceAPIMissing    = "apiservice-api-missing"
	CauseCannotCreateAPIServices = "cannot-create-apiservices"
	CauseDoctorNotAllowed        = "doctor-not-allowed"
	CauseNoAPIServices           = "no-apiservices"

	// The kube-apiserver's aggregation layer (front proxy).
	CauseRequestHeaderCAMissing  = "request-header-ca-missing"
	CauseRequestHeaderCAExpired  = "request-header-ca-expired"
	CauseRequestHeaderCAExpiring = "request-header-ca-expiring"
	CauseRequestHeaderIncomplete = "request-header-incomplete"
	CauseFrontProxyNotAllowed    = "front-proxy-not-allowed"

	// The APIService object and who manages it.
	CauseAPIServiceNotApplied          = "apiservice-not-applied"
	CauseAPIServiceDiffers             = "apiservice-differs"
	CauseConflictingProvider           = "conflicting-provider"
	CauseInsecureSkipTLSVerify         = "insecure-skip-tls-verify"
	CauseInsecureSkipTLSVerifyCABundle = "insecure-skip-tls-verify-with-cabundle"
	CauseNotReported                   = "not-reported-yet"
	CauseUnknownReason                 = "unknown-reason"

	// The Service, its endpoints and the pods.
	CauseServiceNotFound     = "service-not-found"
	CauseServicePortMissing  = "service-port-missing"
	CauseTargetPortMismatch  = "target-port-mismatch"
	CauseEndpointsNotFound   = "endpoints-not-found"
	CauseNoReadyEndpoints    = "no-ready-endpoints"
	CausePodsNotReady        = "pods-not-ready"
	CauseNoServingPods       = "no-serving-pods"
	CauseServiceAccountRBAC  = "serviceaccount-rbac-missing"
	CauseInformersTransient  = "aggregator-informers-failed"
	CauseNamespaceTerminates = "namespace-stuck-terminating"
	CauseFlapping            = "availability-flapping"
	CauseEmptyDiscovery      = "empty-discovery"

	// Reaching the server from the control plane.
	CauseControlPlaneCannotReach = "control-plane-cannot-reach"
	CauseAddressNotAllowed       = "address-not-allowed"
	CauseNetworkPolicyBlocks     = "network-policy-blocks"
	CauseConnectionRefused       = "connection-refused"
	CauseBackendNameUnresolved   = "backend-name-unresolved"
	CausePlainHTTP               = "plain-http"
	CauseServerForbids           = "server-forbids-aggregator"
	CauseGroupVersionNotServed   = "group-version-not-served"
	CauseServerUnhealthy         = "server-unhealthy"
	CauseDiscoveryFailed         = "discovery-failed"

	// Certificates and trust.
	CauseX509UnknownAuthority    = "x509-unknown-authority"
	CauseX509Expired             = "x509-expired"
	CauseX509WrongName           = "x509-wrong-name"
	CauseX509Invalid             = "x509-invalid"
	CauseCABundleEmpty           = "cabundle-empty"
	CauseCABundleMismatch        = "cabundle-mismatch"
	CauseServingSecretMissing    = "serving-secret-missing"
	CauseServingCertUnreadable   = "serving-cert-unreadable"
	CauseServingCertExpiring     = "serving-cert-expiring"
	CauseEndpointServesOtherCert = "endpoint-serves-other-cert"
	CauseCertManagerNotReady     = "cert-manager-certificate-not-ready"
	CauseCertManagerNoCAInjector = "cert-manager-cainjector-missing"
	CauseCertManagerNotInjecting = "cert-manager-not-injecting"
	CauseNotChecked              = "not-checked"
)

// Causes lists every cause id, for the docs test and the JSON schema test.
var Causes = []string{
	CauseClusterUnreachable, CauseCredentialsRejected, CauseAPIServiceAPIMissing, CauseCannotCreateAPIServices,
	CauseDoctorNotAllowed, CauseNoAPIServices,
	CauseRequestHeaderCAMissing, CauseRequestHeaderCAExpired, CauseRequestHeaderCAExpiring, CauseRequestHeaderIncomplete,
	CauseFrontProxyNotAllowed,
	CauseAPIServiceNotApplied, CauseAPIServiceDiffers, CauseConflictingProvider, CauseInsecureSkipTLSVerify,
	CauseInsecureSkipTLSVerifyCABundle, CauseNotReported, CauseUnknownReason,
	CauseServiceNotFound, CauseServicePortMissing, CauseTargetPortMismatch, CauseEndpointsNotFound, CauseNoReadyEndpoints,
	CausePodsNotReady, CauseNoServingPods, CauseServiceAccountRBAC, CauseInformersTransient, CauseNamespaceTerminates,
	CauseFlapping, CauseEmptyDiscovery,
	CauseControlPlaneCannotReach, CauseAddressNotAllowed, CauseNetworkPolicyBlocks, CauseConnectionRefused,
	CauseBackendNameUnresolved, CausePlainHTTP, CauseServerForbids, CauseGroupVersionNotServed, CauseServerUnhealthy,
	CauseDiscoveryFailed,
	CauseX509UnknownAuthority, CauseX509Expired, CauseX509WrongName, CauseX509Invalid, CauseCABundleEmpty,
	CauseCABundleMismatch, CauseServingSecretMissing, CauseServingCertUnreadable, CauseServingCertExpiring,
	CauseEndpointServesOtherCert, CauseCertManagerNotReady, CauseCertManagerNoCAInjector, CauseCertManagerNotInjecting,
	CauseNotChecked,
}
