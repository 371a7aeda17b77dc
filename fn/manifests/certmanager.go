package manifests

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/pki"
)

// The cert-manager.io/v1 types we emit, with just the fields we set: importing
// cert-manager itself would pull its whole controller tree into the function.

// Issuer is a cert-manager.io/v1 Issuer.
type Issuer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              IssuerSpec `json:"spec"`
}

// IssuerSpec is either self-signed or a CA.
type IssuerSpec struct {
	SelfSigned *struct{} `json:"selfSigned,omitempty"`
	CA         *CAIssuer `json:"ca,omitempty"`
}

// CAIssuer signs with the key pair in a Secret.
type CAIssuer struct {
	SecretName string `json:"secretName"`
}

// Certificate is a cert-manager.io/v1 Certificate.
type Certificate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              CertificateSpec `json:"spec"`
}

// CertificateSpec is the part of cert-manager's CertificateSpec we set.
type CertificateSpec struct {
	SecretName  string                 `json:"secretName"`
	CommonName  string                 `json:"commonName,omitempty"`
	DNSNames    []string               `json:"dnsNames,omitempty"`
	IsCA        bool                   `json:"isCA,omitempty"`
	Duration    string                 `json:"duration,omitempty"`
	RenewBefore string                 `json:"renewBefore,omitempty"`
	Usages      []string               `json:"usages,omitempty"`
	PrivateKey  *CertificatePrivateKey `json:"privateKey,omitempty"`
	IssuerRef   CertManagerIssuerRef   `json:"issuerRef"`
}

// CertificatePrivateKey is the key cert-manager generates.
type CertificatePrivateKey struct {
	Algorithm      string `json:"algorithm"`
	Size           int    `json:"size,omitempty"`
	Encoding       string `json:"encoding,omitempty"`
	RotationPolicy string `json:"rotationPolicy"`
}

// CertManagerIssuerRef references an Issuer or ClusterIssuer.
type CertManagerIssuerRef struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Group string `json:"group"`
}

var certManagerGV = schema.GroupVersion{Group: "cert-manager.io", Version: "v1"}

// DeepCopyObject makes Issuer a runtime.Object; the objects are built once and never shared.
func (i *Issuer) DeepCopyObject() runtime.Object { c := *i; return &c }

// DeepCopyObject makes Certificate a runtime.Object.
func (c *Certificate) DeepCopyObject() runtime.Object { d := *c; return &d }

// CertManagerObjects are the serving Certificate and, without spec.certificate.certManager.issuerRef,
// a self-signed Issuer, a CA Certificate and the CA Issuer that signs the serving one.
func CertManagerObjects(api *config.AggregatedAPI, n Names) []Object {
	c := api.Spec.Certificate
	ns := api.Spec.Namespace
	ref := CertManagerIssuerRef{Name: n.CAIssuer, Kind: "Issuer", Group: certManagerGV.Group}
	var objs []Object
	if cm := c.CertManager; cm != nil && cm.IssuerRef != nil {
		ref = CertManagerIssuerRef{Name: cm.IssuerRef.Name, Kind: cm.IssuerRef.Kind, Group: cm.IssuerRef.Group}
	} else {
		caDuration := config.DefaultCADuration
		if cm != nil {
			caDuration = cm.CADuration
		}
		objs = append(objs,
			&Issuer{
				TypeMeta:   metav1.TypeMeta{APIVersion: certManagerGV.String(), Kind: "Issuer"},
				ObjectMeta: meta(api, n.SelfSignedIssuer, ns),
				Spec:       IssuerSpec{SelfSigned: &struct{}{}},
			},
			&Certificate{
				TypeMeta:   metav1.TypeMeta{APIVersion: certManagerGV.String(), Kind: "Certificate"},
				ObjectMeta: meta(api, n.CACertificate, ns),
				Spec: CertificateSpec{
					SecretName: n.CACertificate,
					CommonName: api.CACommonName(),
					IsCA:       true,
					Duration:   certManagerDuration(caDuration),
					// Keeping the key on renewal keeps certificates signed by the previous
					// CA certificate verifiable by the new one: no trust gap at CA renewal.
					PrivateKey: privateKey(c.KeyAlgorithm, "Never"),
					IssuerRef:  CertManagerIssuerRef{Name: n.SelfSignedIssuer, Kind: "Issuer", Group: certManagerGV.Group},
				},
			},
			&Issuer{
				TypeMeta:   metav1.TypeMeta{APIVersion: certManagerGV.String(), Kind: "Issuer"},
				ObjectMeta: meta(api, n.CAIssuer, ns),
				Spec:       IssuerSpec{CA: &CAIssuer{SecretName: n.CACertificate}},
			},
		)
	}
	names := api.ServingDNSNames()
	objs = append(objs, &Certificate{
		TypeMeta:   metav1.TypeMeta{APIVersion: certManagerGV.String(), Kind: "Certificate"},
		ObjectMeta: meta(api, n.ServingCertificate, ns),
		Spec: CertificateSpec{
			SecretName:  n.Secret,
			CommonName:  api.ServingCommonName(),
			DNSNames:    names,
			Duration:    certManagerDuration(c.Validity),
			RenewBefore: certManagerDuration(c.RenewBefore),
			Usages:      []string{"server auth", "digital signature"},
			PrivateKey:  privateKey(c.KeyAlgorithm, "Always"),
			IssuerRef:   ref,
		},
	})
	return objs
}

// certManagerDuration is a validated config duration the way cert-manager stores it:
// cert-manager.io/v1 CertificateSpec's duration and renewBefore are *metav1.Duration
// (pkg/apis/certmanager/v1/types_certificate.go), whose MarshalJSON writes
// time.Duration's String form, so anything that decodes and re-encodes the Certificate
// (cert-manager's webhook answers with a patch from the re-marshalled object:
// pkg/webhook/admission/custom_mutation_webhook.go; older releases' conversion webhook;
// any typed client's update) turns 8760h into 8760h0m0s. Writing that form makes the
// round trip a no-op, so a GitOps diff (Argo CD) sees no drift.
func certManagerDuration(s string) string {
	d, _ := time.ParseDuration(s)
	return d.String()
}

// privateKey is cert-manager's spelling of a key algorithm: family and size.
func privateKey(alg, rotation string) *CertificatePrivateKey {
	a := pki.KeyAlgorithm(alg)
	return &CertificatePrivateKey{Algorithm: a.Family(), Size: a.Size(), Encoding: "PKCS8", RotationPolicy: rotation}
}
