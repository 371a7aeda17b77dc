package config

import (
	"crypto/sha256"
	"encoding/hex"
	"unicode/utf8"
)

// Names are the names of the objects a config generates: derived from metadata.name,
// or set in spec.names. ObjectNames is the one place they are derived.
type Names struct {
	Namespace           string
	ServiceAccount      string
	Secret              string // the serving Secret the pods mount (the user's in provided mode)
	Deployment          string
	Service             string
	ServerRole          string // ClusterRole of what the server reads
	ServerRoleBinding   string // ClusterRoleBinding granting it
	AuthDelegator       string // ClusterRoleBinding to system:auth-delegator
	AuthReader          string // RoleBinding in kube-system
	ViewRole            string // aggregated into view, edit and admin
	EditRole            string // aggregated into edit and admin
	PodDisruptionBudget string
	NetworkPolicy       string
	ServiceMonitor      string // the deployment's name, as the PodDisruptionBudget's default

	// cert-manager mode
	ServingCertificate string // the Certificate that writes Secret
	SelfSignedIssuer   string
	CACertificate      string // also the name of the CA's Secret
	CAIssuer           string
}

// ObjectNames derives the names of a defaulted config's objects from metadata.name,
// spec.namespace, spec.service.name, spec.names and, in provided mode, the user's Secret.
// maxNameLength leaves room for the longest suffix (TestObjectNamesOfLongestName).
func (a *AggregatedAPI) ObjectNames() Names {
	n := a.Name
	var o ObjectNames
	if a.Spec.Names != nil {
		o = *a.Spec.Names
	}
	or := func(v, def string) string {
		if v != "" {
			return v
		}
		return def
	}
	names := Names{
		Namespace:      a.Spec.Namespace,
		ServiceAccount: or(o.ServiceAccount, n+"-apiserver"),
		Secret:         a.ServingSecretName(),
		Deployment:     or(o.Deployment, n+"-apiserver"),
		Service:        a.Spec.Service.Name,
		ServerRole:     or(o.ClusterRole, n+"-apiserver"),
		AuthDelegator:  or(o.AuthDelegator, n+"-auth-delegator"),
		AuthReader:     or(o.AuthReader, n+"-auth-reader"),
		ViewRole:       or(o.ViewRole, n+"-view"),
		EditRole:       or(o.EditRole, n+"-edit"),

		ServingCertificate: n + "-serving-cert",
		SelfSignedIssuer:   n + "-selfsigned",
		CACertificate:      n + "-ca",
		CAIssuer:           n + "-ca",
	}
	names.ServerRoleBinding = or(o.ClusterRoleBinding, names.ServerRole)
	names.PodDisruptionBudget = or(o.PodDisruptionBudget, names.Deployment)
	names.NetworkPolicy = or(o.NetworkPolicy, names.Deployment)
	names.ServiceMonitor = names.Deployment
	return names
}

// CACommonName is the commonName of the CA certificate (generate and cert-manager
// modes), at most 64 bytes (RFC 5280's ub-common-name, which cert-manager enforces).
func (a *AggregatedAPI) CACommonName() string {
	return CommonName("aggapi CA for " + a.ServingDNSNames()[0])
}

// ServingCommonName is the commonName of the serving certificate, at most 64 bytes; its
// DNS names carry the full service names.
func (a *AggregatedAPI) ServingCommonName() string {
	return CommonName(a.ServingDNSNames()[0])
}

// maxCommonName is RFC 5280's ub-common-name, in bytes.
const maxCommonName = 64

// CommonName returns s if it fits in a certificate's commonName (64 bytes), and
// otherwise its first 55 bytes, a dash and 8 hex digits of its SHA-256: still
// readable, still distinct for distinct names, the same on every render.
func CommonName(s string) string {
	if len(s) <= maxCommonName {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	cut := maxCommonName - 9
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "-" + hex.EncodeToString(sum[:4])
}

// ServingSecretName is the TLS Secret the pods mount: ours, or the user's in provided mode.
func (a *AggregatedAPI) ServingSecretName() string {
	if p := a.Spec.Certificate.Provided; a.Spec.Certificate.Mode == ModeProvided && p != nil {
		return p.SecretName
	}
	if o := a.Spec.Names; o != nil && o.Secret != "" {
		return o.Secret
	}
	return a.Name + "-serving-cert"
}

// systemNamespaces are created by the cluster itself: the function never emits them.
var systemNamespaces = map[string]bool{"kube-system": true, "kube-public": true, "kube-node-lease": true, "default": true}

// IsSystemNamespace reports whether the cluster itself creates and owns namespace ns.
func IsSystemNamespace(ns string) bool { return systemNamespaces[ns] }

// EmitsNamespace reports whether the render emits the Namespace object.
func (a *AggregatedAPI) EmitsNamespace() bool {
	if IsSystemNamespace(a.Spec.Namespace) {
		return false
	}
	return a.Spec.CreateNamespace == nil || *a.Spec.CreateNamespace
}
