package render

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/internal/boundedfile"
	"github.com/aggapi/aggapi/fn/keys"
	"github.com/aggapi/aggapi/fn/manifests"
	"github.com/aggapi/aggapi/fn/pki"
	"github.com/aggapi/aggapi/fn/provenance"
)

// certificates decides the certificate material of a render by mode.
func (r *run) certificates(api *config.AggregatedAPI, names manifests.Names, owned []*yaml.RNode) (manifests.Material, error) {
	switch api.Spec.Certificate.Mode {
	case config.ModeProvided:
		return r.provided(api)
	case config.ModeCertManager:
		// The cluster's own machinery issues the certificate and injects the caBundle.
		r.info(fmt.Sprintf("cert-manager issues Secret %s/%s and cainjector fills every caBundle from Certificate %s/%s (cainjector needs --enable-apiservices-injectable, on by default)",
			api.Spec.Namespace, names.Secret, api.Spec.Namespace, names.ServingCertificate))
		return manifests.Material{}, nil
	case config.ModeOpenShift:
		r.info(fmt.Sprintf("OpenShift's service-ca operator issues Secret %s/%s for Service %s and fills every caBundle",
			api.Spec.Namespace, names.Secret, api.Spec.Service.Name))
		return manifests.Material{}, nil
	}
	return r.generate(api, names, owned)
}

// generate reuses the serving material of the previous render while it is valid for the
// config, and otherwise issues a new CA and serving certificate. After a renewal the
// caBundle trusts the previous CA too, until the overlap has passed.
func (r *run) generate(api *config.AggregatedAPI, names manifests.Names, owned []*yaml.RNode) (manifests.Material, error) {
	cert := api.Spec.Certificate
	renewBefore := cert.RenewBeforeDuration()
	req := pki.ServingCertRequest{
		CommonName:   api.ServingCommonName(),
		DNSNames:     api.ServingDNSNames(),
		KeyAlgorithm: pki.KeyAlgorithm(cert.KeyAlgorithm),
		NotAfter:     r.now.Add(cert.ValidityDuration()),
	}
	previousBundle := r.previousBundle(api, owned)

	reason := "no previous certificate in the input"
	broken := false
	var previousCA *x509.Certificate
	if prev := findSecret(owned, names.Secret, api.Spec.Namespace); prev != nil {
		where := fmt.Sprintf("previous Secret %s/%s", prev.GetNamespace(), prev.GetName())
		m, parsed, err := r.previousMaterial(prev, api, req)
		if err == nil {
			r.info(fmt.Sprintf("reused the serving certificate for %s: expires %s, renewed by a render after %s",
				req.DNSNames[0], rfc3339(parsed.Leaf.NotAfter), rfc3339(pki.RenewalTime(parsed.Leaf, renewBefore))))
			bundle := r.bundle(parsed.CAs, previousBundle, parsed.Leaf, cert.OverlapDuration())
			return material(bundle, m), nil
		}
		var notOurs *notOursError
		var tooLong *tooLongError
		if parsed != nil && !errors.As(err, &notOurs) && !errors.As(err, &tooLong) && parsed.CAs[0].NotAfter.After(r.now) {
			// The previous certificate is ours and its CA still lives: pods serving it
			// stay trusted through the overlap. A CA outliving what the config allows is
			// not (after validity was shortened, the APIServices' caBundle still has it).
			previousCA = parsed.CAs[0]
		}
		// Material that does not parse, was edited or is not ours is not merely due:
		// worth a warning.
		broken = parsed == nil || errors.As(err, &notOurs)
		reason = fmt.Sprintf("%s not reusable: %v", where, err)
	}

	if req.KeyAlgorithm.Slow() {
		fmt.Fprintf(r.progress, "aggapi: generating two %s keys (the CA's and the serving certificate's); this takes a few seconds\n", req.KeyAlgorithm)
	}
	ca, err := r.issuer.NewCertificateAuthority(api.CACommonName(), req.KeyAlgorithm, r.now, req.NotAfter)
	if err != nil {
		return manifests.Material{}, err
	}
	kp, err := ca.NewServingCert(req, r.now)
	if err != nil {
		return manifests.Material{}, err
	}
	keyPEM, err := pki.EncodePrivateKeyPEM(kp.Key)
	if err != nil {
		return manifests.Material{}, err
	}
	// The CA key goes out of scope here: it is never written anywhere.
	m := pki.TLSMaterial{CertPEM: pki.EncodeCertPEM(kp.Cert), KeyPEM: keyPEM, CAPEM: pki.EncodeCertPEM(ca.Cert)}
	issued := fmt.Sprintf("issued a new serving certificate for %s, expires %s (%s)", req.DNSNames[0], rfc3339(kp.Cert.NotAfter), reason)
	if broken {
		r.warn(issued)
	} else {
		r.info(issued)
	}
	bundle := append([]*x509.Certificate{ca.Cert}, r.keptCAs(previousCA, previousBundle, kp.Cert, cert.OverlapDuration())...)
	return material(bundle, m), nil
}

// notOursError says previous material is not what aggapi issues, or not as it issued it.
type notOursError struct{ msg string }

func (e *notOursError) Error() string { return e.msg }

func notOurs(format string, args ...any) error { return &notOursError{fmt.Sprintf(format, args...)} }

// tooLongError says previous material lasts longer than the config's validity allows.
type tooLongError struct{ err error }

func (e *tooLongError) Error() string { return e.err.Error() }

// caNamePrefix starts the commonName of every CA aggapi issues (config's CACommonName,
// shortened or not).
const caNamePrefix = "aggapi CA for "

// previousMaterial reads the previous serving Secret and decides whether it can serve
// this render: a nil error means reuse it. Its rendered digest must match (an object
// without one, from an older aggapi, is read as before); ca.crt must hold exactly one
// CA that looks like aggapi's (self-signed, named as aggapi names this config's CA) and
// signed tls.crt; the certificate must serve req and not outlive what validity allows.
// The digest is no signature: anyone who can write the Secret can recompute it, so the
// checks of the material itself come on top. parsed is nil when the material does not
// parse or was edited; an error that is a *notOursError means it is not aggapi's.
func (r *run) previousMaterial(prev *yaml.RNode, api *config.AggregatedAPI, req pki.ServingCertRequest) (pki.TLSMaterial, *pki.Parsed, error) {
	if !unchangedBeyondMetadata(prev, manifests.ServingSecret(api, api.ObjectNames(), manifests.SecretPEM{})) {
		return pki.TLSMaterial{}, nil, notOurs("it was changed after aggapi rendered it (its %s does not match), so its key material is neither reused nor trusted", keys.RenderedDigestAnnotation)
	}
	m, err := secretMaterial(prev)
	if err != nil {
		return m, nil, err
	}
	cert := api.Spec.Certificate
	parsed, err := m.Check(req, cert.RenewBeforeDuration(), r.now)
	if parsed == nil {
		return m, nil, err
	}
	if len(parsed.CAs) != 1 {
		return m, parsed, notOurs("ca.crt holds %d certificates, aggapi writes one (its CA)", len(parsed.CAs))
	}
	ca := parsed.CAs[0]
	if e := aggapiCA(ca); e != nil {
		return m, parsed, notOurs("ca.crt: %v", e)
	}
	if parsed.Leaf.CheckSignatureFrom(ca) != nil {
		return m, parsed, notOurs("tls.crt is not signed by the CA in ca.crt")
	}
	if err != nil {
		return m, parsed, err
	}
	if want := api.CACommonName(); ca.Subject.CommonName != want {
		return m, parsed, notOurs("ca.crt: the CA is named %q, aggapi names this config's CA %q", ca.Subject.CommonName, want)
	}
	for _, c := range []struct {
		what string
		cert *x509.Certificate
	}{{"tls.crt", parsed.Leaf}, {"the CA in ca.crt", ca}} {
		if err := pki.CheckLifetime(c.what, c.cert, cert.ValidityDuration()); err != nil {
			return m, parsed, &tooLongError{err}
		}
	}
	return m, parsed, nil
}

// unchangedBeyondMetadata tells whether prev is as aggapi rendered it, by its rendered
// digest, except perhaps for its labels and annotations: with those set as this config
// writes them on want (its counterpart, nil if none), the digest must match. So labels:
// or commonAnnotations: in the render's own kustomization (warned about as any edit)
// does not cost a reissue, while any change to data or spec does. An object without a
// rendered digest (an older aggapi's render) counts as unchanged.
func unchangedBeyondMetadata(prev *yaml.RNode, want runtime.Object) bool {
	if !provenance.Edited(prev) {
		return true
	}
	if want == nil || reflect.ValueOf(want).IsNil() {
		return false
	}
	w, err := toRNode(want)
	if err != nil {
		return false
	}
	c := prev.Copy()
	recorded := prev.GetAnnotations()
	annotations := w.GetAnnotations()
	for _, k := range []string{keys.ConfigDigestAnnotation, keys.VersionAnnotation, keys.RenderedDigestAnnotation} {
		if v, ok := recorded[k]; ok {
			annotations[k] = v
		}
	}
	if c.SetLabels(w.GetLabels()) != nil || c.SetAnnotations(annotations) != nil {
		return false
	}
	return !provenance.Edited(c)
}

// apiServiceNamed is the APIService of this config with the given name, or nil.
func apiServiceNamed(api *config.AggregatedAPI, name string) *apiregv1.APIService {
	for _, g := range api.APIGroups() {
		for _, v := range g.Versions {
			if a := manifests.APIService(api, g, v, nil); a.Name == name {
				return a
			}
		}
	}
	return nil
}

// aggapiCA reports why ca is not a CA aggapi could have issued: a self-signed CA
// certificate named as aggapi names its CAs.
func aggapiCA(ca *x509.Certificate) error {
	if err := pki.CheckSelfSignedCA(ca); err != nil {
		return err
	}
	if !strings.HasPrefix(ca.Subject.CommonName, caNamePrefix) {
		return fmt.Errorf("CA %q is not named as aggapi names its CAs (%q...)", ca.Subject.CommonName, caNamePrefix)
	}
	return nil
}

// keptCAs are the previous CAs a renewal's caBundle still trusts: the CA of the
// previous Secret and those of the previous APIServices' caBundle, so pods serving the
// previous certificate stay trusted while the Deployment rolls, even when the previous
// Secret was broken. Each stays until overlap after the new certificate's NotBefore,
// or its expiry if that comes first; a CA that was already a previous one in the last
// bundle (not its first) keeps the end it had, counted from the first's NotBefore.
func (r *run) keptCAs(previousCA *x509.Certificate, previousBundle []*x509.Certificate, leaf *x509.Certificate, overlap time.Duration) []*x509.Certificate {
	if overlap <= 0 {
		return nil
	}
	var kept []*x509.Certificate
	keep := func(ca *x509.Certificate, end time.Time, where string) {
		if !ca.IsCA || containsCert(kept, ca) || !r.now.Before(end) {
			return
		}
		kept = append(kept, ca)
		r.info(fmt.Sprintf("the caBundle also trusts the previous CA %q (%s, expires %s) until %s, while pods roll to the new certificate",
			ca.Subject.CommonName, where, rfc3339(ca.NotAfter), rfc3339(end)))
	}
	if previousCA != nil {
		keep(previousCA, overlapEnd(leaf, overlap, previousCA), "from the previous Secret")
	}
	for i, ca := range previousBundle {
		end := overlapEnd(leaf, overlap, ca)
		if i > 0 {
			// Already on its way out: the previous render's own CA came first.
			end = overlapEndFrom(previousBundle[0].NotBefore, overlap, ca)
		}
		keep(ca, end, "from the previous APIServices' caBundle")
	}
	return kept
}

// overlapEndFrom is overlapEnd for a renewal at start.
func overlapEndFrom(start time.Time, overlap time.Duration, previousCA *x509.Certificate) time.Time {
	end := start.Add(overlap)
	if previousCA.NotAfter.Before(end) {
		return previousCA.NotAfter
	}
	return end
}

// bundle is the current CA plus the previous CAs of the last caBundle that are still
// inside the overlap after the current certificate's NotBefore and have not expired.
func (r *run) bundle(current []*x509.Certificate, previous []*x509.Certificate, leaf *x509.Certificate, overlap time.Duration) []*x509.Certificate {
	out := append([]*x509.Certificate{}, current...)
	for _, ca := range previous {
		if containsCert(out, ca) {
			continue
		}
		if r.now.Before(overlapEnd(leaf, overlap, ca)) {
			out = append(out, ca)
		}
	}
	return out
}

// overlapEnd is when a previous CA leaves the bundle: overlap after the new
// certificate's NotBefore, or the CA's expiry if that comes first.
func overlapEnd(leaf *x509.Certificate, overlap time.Duration, previousCA *x509.Certificate) time.Time {
	return overlapEndFrom(leaf.NotBefore, overlap, previousCA)
}

func containsCert(certs []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range certs {
		if x.Equal(c) {
			return true
		}
	}
	return false
}

// previousBundle is the CA bundle of the previous render's APIServices (they all carry
// the same one): of the first that was not changed after aggapi rendered it, and only
// its CAs that look like aggapi's. Unparsable data counts as none.
func (r *run) previousBundle(api *config.AggregatedAPI, owned []*yaml.RNode) []*x509.Certificate {
	for _, it := range owned {
		if it.GetKind() != "APIService" || !unchangedBeyondMetadata(it, apiServiceNamed(api, it.GetName())) {
			continue // an edited caBundle is reported as an edit, and trusts nothing
		}
		v, err := it.Pipe(yaml.Lookup("spec", "caBundle"))
		if err != nil || v == nil {
			continue
		}
		pemBytes, err := base64.StdEncoding.DecodeString(yaml.GetValue(v))
		if err != nil {
			continue
		}
		certs, err := pki.ParseCertsPEM(pemBytes)
		if err != nil {
			continue
		}
		var ours []*x509.Certificate
		for _, ca := range certs {
			if err := aggapiCA(ca); err != nil {
				r.warn(fmt.Sprintf("the caBundle of the previous APIService %s holds a certificate aggapi did not issue (%v): it is not carried into the new caBundle; to trust a CA of your own, use spec.certificate.mode: provided", it.GetName(), err))
				continue
			}
			ours = append(ours, ca)
		}
		return ours
	}
	return nil
}

func material(bundle []*x509.Certificate, m pki.TLSMaterial) manifests.Material {
	return manifests.Material{
		CABundle:       pki.EncodeCertPEM(bundle...),
		Secret:         &manifests.SecretPEM{CertPEM: m.CertPEM, KeyPEM: m.KeyPEM, CAPEM: m.CAPEM},
		PodAnnotations: manifests.HashAnnotation(keys.CertHashAnnotation, m.CertPEM),
	}
}

// provided trusts the CA the user supplies and mounts their Secret; it checks the CA
// is a CA, not expired, and warns when it expires within renewBefore.
func (r *run) provided(api *config.AggregatedAPI) (manifests.Material, error) {
	p := api.Spec.Certificate.Provided
	pemBytes, path := []byte(p.CABundle), "spec.certificate.provided.caBundle"
	if p.CAFile != "" {
		path = "spec.certificate.provided.caFile"
		// Inside the working directory only (os.Root: no escape through .. or a symlink),
		// a regular file only, and no more than a PEM bundle may hold.
		b, err := boundedfile.ReadInRoot(".", p.CAFile, pki.MaxPEMBytes)
		if err != nil {
			r.fail(fmt.Sprintf("`%s`: cannot read %q: %v", path, p.CAFile, caFileError(err)), path)
			return manifests.Material{}, nil
		}
		pemBytes = b
	}
	cas, err := pki.ParseCertsPEM(pemBytes)
	if err != nil {
		r.fail(fmt.Sprintf("`%s`: %v", path, err), path)
		return manifests.Material{}, nil
	}
	for i, ca := range cas {
		switch {
		case !ca.IsCA || !ca.BasicConstraintsValid:
			r.fail(fmt.Sprintf("`%s`: certificate %d (%q) is not a CA certificate (basicConstraints CA:TRUE); give the CA that signed the serving certificate, not the serving certificate", path, i+1, ca.Subject.CommonName), path)
		case !r.now.Before(ca.NotAfter):
			r.fail(fmt.Sprintf("`%s`: CA certificate %d (%q) expired %s", path, i+1, ca.Subject.CommonName, rfc3339(ca.NotAfter)), path)
		case r.now.Add(api.Spec.Certificate.RenewBeforeDuration()).After(ca.NotAfter):
			r.warn(fmt.Sprintf("the provided CA %q expires %s, within renewBefore (%s): replace it and the serving certificate it signed", ca.Subject.CommonName, rfc3339(ca.NotAfter), api.Spec.Certificate.RenewBefore))
		}
	}
	if r.failed {
		return manifests.Material{}, nil
	}
	bundle := pki.EncodeCertPEM(cas...)
	r.info(fmt.Sprintf("using the provided CA (%d certificate(s), first expires %s) and Secret %s/%s", len(cas), rfc3339(earliest(cas)), api.Spec.Namespace, p.SecretName))
	return manifests.Material{
		CABundle:       bundle,
		PodAnnotations: manifests.HashAnnotation(keys.CABundleHashAnnotation, bundle),
	}, nil
}

func earliest(certs []*x509.Certificate) time.Time {
	t := certs[0].NotAfter
	for _, c := range certs[1:] {
		if c.NotAfter.Before(t) {
			t = c.NotAfter
		}
	}
	return t
}

// caFileError says what a user must change; the limit errors read as sentences.
func caFileError(err error) error {
	var tooLarge *boundedfile.TooLargeError
	var notRegular *boundedfile.NotRegularError
	switch {
	case errors.As(err, &tooLarge):
		return fmt.Errorf("it is larger than %d bytes, the limit for a PEM bundle", tooLarge.Limit)
	case errors.As(err, &notRegular):
		return fmt.Errorf("it %v", notRegular)
	case errors.Is(err, boundedfile.ErrOutsideRoot):
		return fmt.Errorf("it %v; the file must be inside the working directory", err)
	}
	return err
}

// findSecret finds the previous serving Secret among the objects of the previous
// render: by name, or after spec.names.secret changed, the one TLS Secret there was.
func findSecret(owned []*yaml.RNode, name, namespace string) *yaml.RNode {
	var tls []*yaml.RNode
	for _, it := range owned {
		if it.GetKind() != "Secret" || it.GetApiVersion() != "v1" {
			continue
		}
		if it.GetName() == name && it.GetNamespace() == namespace {
			return it
		}
		if t, _ := it.Pipe(yaml.Lookup("type")); t != nil && yaml.GetValue(t) == "kubernetes.io/tls" {
			tls = append(tls, it)
		}
	}
	if len(tls) == 1 {
		return tls[0]
	}
	return nil
}

func secretMaterial(secret *yaml.RNode) (pki.TLSMaterial, error) {
	data := secret.GetDataMap()
	get := func(key string) ([]byte, error) {
		v, ok := data[key]
		if !ok {
			return nil, fmt.Errorf("no %s", key)
		}
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("%s is not base64", key)
		}
		return b, nil
	}
	var m pki.TLSMaterial
	var err error
	if m.CertPEM, err = get("tls.crt"); err != nil {
		return m, err
	}
	if m.KeyPEM, err = get("tls.key"); err != nil {
		return m, err
	}
	if m.CAPEM, err = get("ca.crt"); err != nil {
		return m, err
	}
	return m, nil
}
