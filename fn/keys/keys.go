package keys

import "strings"

// Prefix starts every label and annotation key the function owns.
const Prefix = "aggapi.dev/"

// The function's own labels: what marks an object as generated, and by which config.
const (
	// OwnerLabel marks every object the function generates with the config's name;
	// objects without it pass through the function untouched.
	OwnerLabel = "aggapi.dev/owner"
	// NameLabel, ComponentLabel and ManagedByLabel are the recommended
	// app.kubernetes.io labels the function sets on what it generates.
	NameLabel      = "app.kubernetes.io/name"
	ComponentLabel = "app.kubernetes.io/component"
	ManagedByLabel = "app.kubernetes.io/managed-by"
)

// The function's own annotations.
const (
	// ConfigDigestAnnotation is the digest of the AggregatedAPI an object was rendered
	// from, after defaulting: `aggapi verify --config` compares it with the config in Git.
	ConfigDigestAnnotation = "aggapi.dev/config-digest"
	// VersionAnnotation is the version of the aggapi that rendered the object.
	VersionAnnotation = "aggapi.dev/version"
	// RenderedDigestAnnotation is the digest of the object as aggapi wrote it (without
	// this annotation and the tools' bookkeeping): the next render tells an edit by it.
	RenderedDigestAnnotation = "aggapi.dev/rendered-digest"
	// CertHashAnnotation on the pod template holds the SHA-256 of the serving
	// certificate, so a new certificate rolls the pods.
	CertHashAnnotation = "aggapi.dev/serving-cert-sha256"
	// CABundleHashAnnotation does the same in provided mode, where only the CA is known.
	CABundleHashAnnotation = "aggapi.dev/ca-bundle-sha256"
)

// The tools' annotations, as kyaml's kioutil names them. They are spelled here, not
// taken from kioutil, so that fn/config, which imports this package, links no kyaml
// (and through it no kube-openapi); TestToolKeysAreKioutils ties each to kioutil.
const (
	// InternalPrefix is the prefix of the annotations kyaml keeps for itself
	// (kioutil.PathAnnotation and its siblings; kioutil does not export it).
	InternalPrefix = "internal.config.kubernetes.io/"
	// PathAnnotation and LegacyPathAnnotation name the file an object is read from
	// and written to; kpt honours both.
	PathAnnotation       = InternalPrefix + "path"
	LegacyPathAnnotation = "config.kubernetes.io/path"
	// IndexAnnotation and LegacyIndexAnnotation are an object's place in that file.
	IndexAnnotation       = InternalPrefix + "index"
	LegacyIndexAnnotation = "config.kubernetes.io/index"
	// LegacyIDAnnotation is the id kpt maps inputs to outputs by (IdAnnotation's old name).
	LegacyIDAnnotation = "config.k8s.io/id"
	// DependsOnAnnotation orders applies in kpt and Config Sync.
	DependsOnAnnotation = "config.kubernetes.io/depends-on"
)

// Other installers' marks, read to tell who manages an object and never copied.
const (
	// HelmReleaseNameAnnotation and HelmReleaseNamespaceAnnotation are what Helm 3
	// writes on every object of a release; with ManagedByLabel "Helm" they name it.
	HelmReleaseNameAnnotation      = "meta.helm.sh/release-name"
	HelmReleaseNamespaceAnnotation = "meta.helm.sh/release-namespace"
	// HelmManagedBy is the ManagedByLabel value Helm charts set.
	HelmManagedBy = "Helm"
	// HelmPrefix starts Helm's annotations.
	HelmPrefix = "meta.helm.sh/"
	// KubectlPrefix starts kubectl's bookkeeping (last-applied-configuration, restartedAt).
	KubectlPrefix = "kubectl.kubernetes.io/"
	// DeploymentPrefix starts the Deployment controller's bookkeeping (revision).
	DeploymentPrefix = "deployment.kubernetes.io/"
)

// toolPrefixes are the annotation prefixes kustomize and kpt write for their own
// bookkeeping (file path, index, ids, origin, function config).
var toolPrefixes = [...]string{
	"config.kubernetes.io/",
	InternalPrefix,
	"config.k8s.io/",
	"kustomize.config.k8s.io/",
	"alpha.config.kubernetes.io/",
}

// IsToolAnnotation tells the annotations kustomize and kpt add and change for their own
// bookkeeping (file path, index, ids, origin): they never count as an edit.
func IsToolAnnotation(key string) bool {
	for _, p := range toolPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// IsLocationAnnotation tells the tool annotations that say where an object lives (its
// file, its index in it, its id): a re-render carries them from the previous version of
// an object to the new one, so the object is written back where it was. The rest of
// the tools' annotations (a function config, depends-on, local-config) are not carried:
// they either say what the object is, which the render decides, or are not on outputs.
// Every location annotation is a tool annotation (a test ties the two), so carrying
// one never reads as an edit.
func IsLocationAnnotation(key string) bool {
	switch key {
	case LegacyPathAnnotation, LegacyIndexAnnotation, LegacyIDAnnotation:
		return true
	}
	return strings.HasPrefix(key, InternalPrefix)
}

// Other tools' annotations the function writes on what it generates: a config may not
// set them (they would fight the function's own values).
const (
	// CertManagerInjectAnnotation asks cert-manager's cainjector to fill a caBundle.
	CertManagerInjectAnnotation = "cert-manager.io/inject-ca-from"
	// OpenShiftInjectAnnotation asks OpenShift's service-ca operator to fill a caBundle.
	OpenShiftInjectAnnotation = "service.beta.openshift.io/inject-cabundle"
	// OpenShiftServingCertAnnotation asks it for a serving certificate Secret.
	OpenShiftServingCertAnnotation = "service.beta.openshift.io/serving-cert-secret-name"
	// SyncWaveAnnotation orders Argo CD's apply (APIServices after their server).
	SyncWaveAnnotation = "argocd.argoproj.io/sync-wave"
)

// WrittenForOthers are the annotations of other tools the function writes.
var WrittenForOthers = []string{CertManagerInjectAnnotation, OpenShiftInjectAnnotation, OpenShiftServingCertAnnotation, SyncWaveAnnotation}
