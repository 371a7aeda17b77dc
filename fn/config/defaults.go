package config

import (
	"cmp"
	"time"
)

// Defaults of the optional fields; the config reference (docs/config.md) lists the
// same values.
const (
	DefaultGroupPriorityMinimum = 1000
	DefaultVersionPriority      = 15
	DefaultServicePort          = 443
	DefaultServerPort           = 10250 // what GKE private clusters admit from the control plane (with 443)
	DefaultReplicas             = 1
	DefaultImagePullPolicy      = "IfNotPresent"
	DefaultValidity             = "8760h"
	DefaultRenewBefore          = "720h"
	DefaultKeyAlgorithm         = "ECDSA-P256"
	DefaultOverlap              = "24h"
	DefaultShutdownDelay        = "5s"
	DefaultCADuration           = "87600h"
	DefaultSecurePortFlag       = "--secure-port"
	DefaultTLSCertFileFlag      = "--tls-cert-file"
	DefaultTLSPrivateKeyFlag    = "--tls-private-key-file"
	DefaultTLSMinVersionFlag    = "--tls-min-version"
	DefaultTLSCipherSuitesFlag  = "--tls-cipher-suites"
	DefaultContainerName        = "apiserver"
	DefaultBaseRules            = BaseRulesDefault
	DefaultCPURequest           = "100m"
	DefaultMemoryRequest        = "128Mi"
)

// Default fills every optional field that is unset.
func (a *AggregatedAPI) Default() {
	s := &a.Spec
	s.Namespace = cmp.Or(s.Namespace, a.Name)
	if len(s.Groups) == 0 {
		// The shorthand; with spec.groups, Validate reports any shorthand field given.
		defaultGroup(&s.GroupPriorityMinimum, s.Versions)
	}
	for i := range s.Groups {
		defaultGroup(&s.Groups[i].GroupPriorityMinimum, s.Groups[i].Versions)
	}
	if s.Service.Name == "" && s.Names != nil {
		s.Service.Name = s.Names.Service
	}
	s.Service.Name = cmp.Or(s.Service.Name, a.Name)
	s.Service.Port = cmp.Or(s.Service.Port, DefaultServicePort)
	sv := &s.Server
	sv.Port = cmp.Or(sv.Port, DefaultServerPort)
	sv.Replicas = cmp.Or(sv.Replicas, DefaultReplicas)
	sv.ShutdownDelay = cmp.Or(sv.ShutdownDelay, DefaultShutdownDelay)
	sv.ContainerName = cmp.Or(sv.ContainerName, DefaultContainerName)
	sv.BaseRules = cmp.Or(sv.BaseRules, DefaultBaseRules)
	sv.ImagePullPolicy = cmp.Or(sv.ImagePullPolicy, DefaultImagePullPolicy)
	if sv.Flags == nil {
		sv.Flags = &ServerFlags{}
	}
	defaultString(&sv.Flags.SecurePort, DefaultSecurePortFlag)
	defaultString(&sv.Flags.TLSCertFile, DefaultTLSCertFileFlag)
	defaultString(&sv.Flags.TLSPrivateKeyFile, DefaultTLSPrivateKeyFlag)
	defaultString(&sv.Flags.TLSMinVersion, DefaultTLSMinVersionFlag)
	defaultString(&sv.Flags.TLSCipherSuites, DefaultTLSCipherSuitesFlag)
	if sv.Resources == nil {
		sv.Resources = &Resources{Requests: map[string]string{"cpu": DefaultCPURequest, "memory": DefaultMemoryRequest}}
	}
	if np := s.NetworkPolicy; np != nil && len(np.APIServerPorts) == 0 {
		np.APIServerPorts = []int32{443, 6443}
	}
	c := &s.Certificate
	c.Validity = cmp.Or(c.Validity, DefaultValidity)
	c.RenewBefore = cmp.Or(c.RenewBefore, DefaultRenewBefore)
	c.KeyAlgorithm = cmp.Or(c.KeyAlgorithm, DefaultKeyAlgorithm)
	c.Mode = cmp.Or(c.Mode, ModeGenerate)
	c.Overlap = cmp.Or(c.Overlap, DefaultOverlap)
	if cm := c.CertManager; cm != nil {
		cm.CADuration = cmp.Or(cm.CADuration, DefaultCADuration)
		if r := cm.IssuerRef; r != nil {
			r.Kind = cmp.Or(r.Kind, IssuerKind)
			r.Group = cmp.Or(r.Group, "cert-manager.io")
		}
	}
}

func defaultGroup(priority *int32, versions []Version) {
	*priority = cmp.Or(*priority, DefaultGroupPriorityMinimum)
	for i := range versions {
		versions[i].VersionPriority = cmp.Or(versions[i].VersionPriority, DefaultVersionPriority)
	}
}

func defaultString(p **string, v string) {
	if *p == nil {
		*p = &v
	}
}

// ValidityDuration is the parsed certificate.validity; call it on a validated config.
func (c Certificate) ValidityDuration() time.Duration {
	d, _ := time.ParseDuration(c.Validity)
	return d
}

// RenewBeforeDuration is the parsed certificate.renewBefore; call it on a validated config.
func (c Certificate) RenewBeforeDuration() time.Duration {
	d, _ := time.ParseDuration(c.RenewBefore)
	return d
}

// ShutdownDelaySeconds is the parsed server.shutdownDelay in whole seconds; call it on a
// validated config.
func (s Server) ShutdownDelaySeconds() int64 {
	d, _ := time.ParseDuration(s.ShutdownDelay)
	return int64(d / time.Second)
}

// OverlapDuration is the parsed certificate.overlap; call it on a validated config.
func (c Certificate) OverlapDuration() time.Duration {
	d, _ := time.ParseDuration(c.Overlap)
	return d
}

// ServingDNSNames are the names the serving certificate must carry; the first is the
// one the kube-aggregator verifies (<service>.<namespace>.svc) and the certificate's CN.
func (a *AggregatedAPI) ServingDNSNames() []string {
	svc, ns := a.Spec.Service.Name, a.Spec.Namespace
	return []string{
		svc + "." + ns + ".svc",
		svc,
		svc + "." + ns,
		svc + "." + ns + ".svc.cluster.local",
	}
}

// APIGroups are the groups served: spec.groups, or the one-group shorthand as a list
// of one (none when neither is given).
func (a *AggregatedAPI) APIGroups() []APIGroup {
	s := a.Spec
	if len(s.Groups) > 0 {
		return s.Groups
	}
	if s.Group == "" && len(s.Versions) == 0 {
		return nil
	}
	return []APIGroup{{
		Group: s.Group, Versions: s.Versions, GroupPriorityMinimum: s.GroupPriorityMinimum,
		Resources: s.Resources, ReadOnly: s.ReadOnly,
	}}
}

// APIServiceName is the name the kube-aggregator requires for a version: <version>.<group>.
func APIServiceName(group, version string) string {
	return version + "." + group
}
