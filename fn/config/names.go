package config

// Names are the names of the objects a config generates. ObjectNames is the one place
// they are derived; per-object overrides belong there too.
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

	// cert-manager mode
	ServingCertificate string // the Certificate that writes Secret
	SelfSignedIssuer   string
	CACertificate      string // also the name of the CA's Secret
	CAIssuer           string
}

// ObjectNames derives the names of a defaulted config's objects from metadata.name,
// spec.namespace, spec.service.name and, in provided mode, the user's Secret.
// maxNameLength leaves room for the longest suffix (TestObjectNamesOfLongestName).
func (a *AggregatedAPI) ObjectNames() Names {
	n := a.Name
	secret := n + "-serving-cert"
	if p := a.Spec.Certificate.Provided; a.Spec.Certificate.Mode == ModeProvided && p != nil {
		secret = p.SecretName
	}
	return Names{
		Namespace:           a.Spec.Namespace,
		ServiceAccount:      n + "-apiserver",
		Secret:              secret,
		Deployment:          n + "-apiserver",
		Service:             a.Spec.Service.Name,
		ServerRole:          n + "-apiserver",
		ServerRoleBinding:   n + "-apiserver",
		AuthDelegator:       n + "-auth-delegator",
		AuthReader:          n + "-auth-reader",
		ViewRole:            n + "-view",
		EditRole:            n + "-edit",
		PodDisruptionBudget: n + "-apiserver",
		NetworkPolicy:       n + "-apiserver",

		ServingCertificate: n + "-serving-cert",
		SelfSignedIssuer:   n + "-selfsigned",
		CACertificate:      n + "-ca",
		CAIssuer:           n + "-ca",
	}
}
