package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	maxNameLength = 40 // leaves room for the suffixes of generated object names (TestObjectNamesOfLongestName)
	minValidity   = certManagerMinDuration
	maxValidity   = 10 * 365 * 24 * time.Hour
	// maxShutdownDelay bounds how long a rollout waits on each old pod.
	maxShutdownDelay = 5 * time.Minute
)

// What cert-manager's webhook (internal/apis/certmanager/validation, ValidateDuration)
// requires of a Certificate's spec.duration and spec.renewBefore; it also requires
// renewBefore < duration, which every mode requires of validity and renewBefore here.
const (
	certManagerMinDuration    = time.Hour       // cert-manager's MinimumCertificateDuration
	certManagerMinRenewBefore = 5 * time.Minute // cert-manager's MinimumRenewBefore
)

// Validate checks a defaulted config against the rules the kube-aggregator and the
// API server apply to what we generate, so a problem shows at render time and not
// later as an apply error or a FailedDiscoveryCheck. It returns every problem at once.
//
// Each rule lives in one place: the CRD schema (the kubebuilder markers in types.go)
// owns shape, ranges and enums, and Load checks it first; Validate holds what a schema
// cannot say: Kubernetes name rules, uniqueness, and rules across fields. It also names
// the required fields when spec itself is missing, which the schema reports only as spec.
func (a *AggregatedAPI) Validate() field.ErrorList {
	var errs field.ErrorList
	name := field.NewPath("metadata", "name")
	switch {
	case a.Name == "":
		errs = append(errs, field.Required(name, "names the generated objects"))
	case len(a.Name) > maxNameLength:
		errs = append(errs, field.TooLong(name, a.Name, maxNameLength))
	default:
		errs = append(errs, dns(name, a.Name, validation.IsDNS1123Label)...)
	}

	spec := field.NewPath("spec")
	s := a.Spec
	errs = append(errs, a.validateGroups(spec)...)
	errs = append(errs, dns(spec.Child("namespace"), s.Namespace, validation.IsDNS1123Label)...)
	if o := s.Names; o == nil || o.Service != s.Service.Name {
		// Otherwise it came from spec.names.service, and validateNames reports it there.
		errs = append(errs, dns(spec.Child("service", "name"), s.Service.Name, validation.IsDNS1035Label)...)
	}
	if o := s.Names; o != nil && o.Service != "" && o.Service != s.Service.Name {
		errs = append(errs, field.Invalid(spec.Child("names", "service"), o.Service,
			fmt.Sprintf("spec.service.name is %q: give the Service's name in one of them", s.Service.Name)))
	}
	if s.Names != nil {
		errs = append(errs, a.validateNames(spec.Child("names"))...)
	}
	errs = append(errs, validateMetadata(spec, s)...)
	errs = append(errs, validateAnnotationSizes(spec, s)...)
	errs = append(errs, a.validateServer(spec.Child("server"))...)
	errs = append(errs, a.validateWorkload(spec.Child("server"))...)
	errs = append(errs, validateCertificate(spec.Child("certificate"), s.Certificate)...)
	if np := s.NetworkPolicy; np != nil {
		errs = append(errs, validateNetworkPolicy(spec.Child("networkPolicy"), np)...)
	}
	return errs
}

func (a *AggregatedAPI) validateServer(p *field.Path) field.ErrorList {
	var errs field.ErrorList
	sv := a.Spec.Server
	switch {
	case sv.Image == "":
		errs = append(errs, field.Required(p.Child("image"), "the extension API server's image"))
	default:
		if i, r := badImageRune(sv.Image); i >= 0 {
			errs = append(errs, field.Invalid(p.Child("image"), sv.Image,
				fmt.Sprintf("must not contain whitespace or control characters: %U at byte %d (an image reference is printable ASCII)", r, i)))
		}
	}

	flags := map[string]string{}
	if f := sv.Flags; f != nil {
		fp := p.Child("flags")
		tls := sv.TLS
		if tls == nil {
			tls = &ServerTLS{}
		}
		tp := p.Child("tls")
		for _, fl := range []struct {
			name  string
			val   *string
			owner *field.Path // the field the flag passes; nil: the function does not pass it
		}{
			{"securePort", f.SecurePort, fp.Child("securePort")},
			{"tlsCertFile", f.TLSCertFile, fp.Child("tlsCertFile")},
			{"tlsPrivateKeyFile", f.TLSPrivateKeyFile, fp.Child("tlsPrivateKeyFile")},
			{"tlsMinVersion", f.TLSMinVersion, ifSet(tls.MinVersion != "", tp.Child("minVersion"))},
			{"tlsCipherSuites", f.TLSCipherSuites, ifSet(len(tls.CipherSuites) > 0, tp.Child("cipherSuites"))},
		} {
			if fl.val == nil || *fl.val == "" {
				continue
			}
			if !strings.HasPrefix(*fl.val, "-") || strings.ContainsAny(*fl.val, " =") {
				errs = append(errs, field.Invalid(fp.Child(fl.name), *fl.val, "must be a flag name such as --tls-cert-file, or empty to leave the flag out"))
				continue
			}
			if fl.owner != nil {
				flags[*fl.val] = fl.owner.String()
			}
		}
	}
	errs = append(errs, a.validateTLS(p)...)
	errs = append(errs, a.validateServerPorts(p)...)
	for i, arg := range sv.Args {
		flag, _, _ := strings.Cut(arg, "=")
		if owner, ok := flags[flag]; ok {
			errs = append(errs, field.Invalid(p.Child("args").Index(i), arg, fmt.Sprintf("the function sets %s itself (see %s)", flag, owner)))
		}
	}

	if sv.ShutdownDelay != "" {
		sp := p.Child("shutdownDelay")
		switch d, err := time.ParseDuration(sv.ShutdownDelay); {
		case err != nil:
			errs = append(errs, field.Invalid(sp, sv.ShutdownDelay, durationHint("shutdownDelay", sv.ShutdownDelay)))
		case d < 0 || d > maxShutdownDelay:
			errs = append(errs, field.Invalid(sp, sv.ShutdownDelay, fmt.Sprintf("must be between 0s and %s", maxShutdownDelay)))
		case d%time.Second != 0:
			errs = append(errs, field.Invalid(sp, sv.ShutdownDelay, "must be whole seconds (a preStop sleep counts seconds)"))
		}
	}
	if raw := sv.PodTemplatePatch(); raw != nil {
		errs = append(errs, validatePodTemplate(p.Child("podTemplate"), raw)...)
	}
	if sv.PriorityClassName != "" {
		errs = append(errs, dns(p.Child("priorityClassName"), sv.PriorityClassName, validation.IsDNS1123Subdomain)...)
	}
	if r := sv.Resources; r != nil {
		errs = append(errs, quantities(p.Child("resources", "requests"), r.Requests)...)
		errs = append(errs, quantities(p.Child("resources", "limits"), r.Limits)...)
	}
	for i, rule := range sv.ExtraRules {
		rp := p.Child("extraRules").Index(i)
		if len(rule.Verbs) == 0 {
			errs = append(errs, field.Required(rp.Child("verbs"), ""))
		}
		if len(rule.Resources) == 0 && len(rule.NonResourceURLs) == 0 {
			errs = append(errs, field.Required(rp.Child("resources"), "a rule needs resources or nonResourceURLs"))
		}
		if len(rule.Resources) > 0 && len(rule.NonResourceURLs) > 0 {
			errs = append(errs, field.Invalid(rp.Child("nonResourceURLs"), rule.NonResourceURLs, "a ClusterRole rule has either resources or nonResourceURLs, not both"))
		}
		if len(rule.Resources) > 0 && len(rule.APIGroups) == 0 {
			errs = append(errs, field.Required(rp.Child("apiGroups"), `resource rules need apiGroups ("" is the core group)`))
		}
	}
	return errs
}

func validateCertificate(p *field.Path, c Certificate) field.ErrorList {
	var errs field.ErrorList
	validity, err := time.ParseDuration(c.Validity)
	switch {
	case err != nil:
		errs = append(errs, field.Invalid(p.Child("validity"), c.Validity, durationHint("validity", c.Validity)))
	case validity < minValidity || validity > maxValidity:
		errs = append(errs, field.Invalid(p.Child("validity"), c.Validity, fmt.Sprintf("must be between %s and %s", minValidity, maxValidity)))
	}
	renew, err := time.ParseDuration(c.RenewBefore)
	switch {
	case err != nil:
		errs = append(errs, field.Invalid(p.Child("renewBefore"), c.RenewBefore, durationHint("renewBefore", c.RenewBefore)))
	case renew <= 0:
		errs = append(errs, field.Invalid(p.Child("renewBefore"), c.RenewBefore, "must be positive"))
	case validity > 0 && renew >= validity:
		errs = append(errs, field.Invalid(p.Child("renewBefore"), c.RenewBefore, fmt.Sprintf("must be less than validity (%s)", c.Validity)))
	}
	overlap, err := time.ParseDuration(c.Overlap)
	switch {
	case err != nil:
		errs = append(errs, field.Invalid(p.Child("overlap"), c.Overlap, durationHint("overlap", c.Overlap)))
	case overlap < 0:
		errs = append(errs, field.Invalid(p.Child("overlap"), c.Overlap, "must not be negative"))
	case c.Mode == ModeGenerate && renew > 0 && overlap >= renew:
		// The previous CA must be gone before the next renewal, or bundles would pile up.
		// Only the function's own renewals overlap: in mode cert-manager the 24h default
		// refused every renewBefore under a day, which cert-manager takes.
		errs = append(errs, field.Invalid(p.Child("overlap"), c.Overlap, fmt.Sprintf("must be less than renewBefore (%s)", c.RenewBefore)))
	}

	if f := c.SecretFile; f != "" {
		switch {
		case c.Mode != ModeGenerate:
			errs = append(errs, field.Forbidden(p.Child("secretFile"), "only mode generate renders a Secret"))
		case filepath.IsAbs(f) || slices.Contains(strings.Split(filepath.ToSlash(f), "/"), ".."):
			errs = append(errs, field.Invalid(p.Child("secretFile"), f, "must be a relative path inside the package"))
		case !strings.HasSuffix(f, ".yaml") && !strings.HasSuffix(f, ".yml"):
			errs = append(errs, field.Invalid(p.Child("secretFile"), f, "must end in .yaml or .yml"))
		}
	}
	if c.Mode != ModeProvided && c.Provided != nil {
		errs = append(errs, field.Forbidden(p.Child("provided"), "only for mode provided"))
	}
	if c.Mode != ModeCertManager && c.CertManager != nil {
		errs = append(errs, field.Forbidden(p.Child("certManager"), "only for mode cert-manager"))
	}
	if c.Mode == ModeProvided {
		pp := p.Child("provided")
		switch pr := c.Provided; {
		case pr == nil:
			errs = append(errs, field.Required(pp, "mode provided needs secretName and caBundle or caFile"))
		default:
			errs = append(errs, dns(pp.Child("secretName"), pr.SecretName, validation.IsDNS1123Subdomain)...)
			switch {
			case pr.CABundle == "" && pr.CAFile == "":
				errs = append(errs, field.Required(pp.Child("caBundle"), "set caBundle (PEM) or caFile"))
			case pr.CABundle != "" && pr.CAFile != "":
				errs = append(errs, field.Invalid(pp.Child("caFile"), pr.CAFile, "set caBundle or caFile, not both"))
			case pr.CAFile != "" && (filepath.IsAbs(pr.CAFile) || slices.Contains(strings.Split(filepath.ToSlash(pr.CAFile), "/"), "..")):
				errs = append(errs, field.Invalid(pp.Child("caFile"), pr.CAFile, "must be a relative path inside the working directory"))
			}
		}
	}
	if c.Mode == ModeCertManager && renew > 0 && renew < certManagerMinRenewBefore {
		// The serving Certificate's spec.renewBefore: cert-manager's webhook refuses less.
		errs = append(errs, field.Invalid(p.Child("renewBefore"), c.RenewBefore, fmt.Sprintf(
			"must be at least %s in mode cert-manager: cert-manager's webhook refuses a Certificate that renews later (MinimumRenewBefore)", certManagerMinRenewBefore)))
	}
	if cm := c.CertManager; c.Mode == ModeCertManager && cm != nil {
		cp := p.Child("certManager")
		switch d, err := time.ParseDuration(cm.CADuration); {
		case err != nil:
			errs = append(errs, field.Invalid(cp.Child("caDuration"), cm.CADuration, durationHint("caDuration", cm.CADuration)))
		case d < certManagerMinDuration:
			// The CA Certificate's spec.duration.
			errs = append(errs, field.Invalid(cp.Child("caDuration"), cm.CADuration, fmt.Sprintf(
				"must be at least %s: cert-manager's webhook refuses a shorter Certificate (MinimumCertificateDuration)", certManagerMinDuration)))
		case validity > 0 && d <= validity:
			errs = append(errs, field.Invalid(cp.Child("caDuration"), cm.CADuration, fmt.Sprintf("must be longer than validity (%s)", c.Validity)))
		}
		if r := cm.IssuerRef; r != nil {
			errs = append(errs, dns(cp.Child("issuerRef", "name"), r.Name, validation.IsDNS1123Subdomain)...)
		}
	}
	return errs
}

// badImageRune finds the first rune an image reference cannot hold: references are
// printable ASCII, so this catches \r, \v, NUL, a no-break space, U+2028 and the like.
func badImageRune(image string) (int, rune) {
	for i, r := range image {
		if r <= ' ' || r > '~' {
			return i, r
		}
	}
	return -1, 0
}

func dns(p *field.Path, v string, check func(string) []string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range check(v) {
		errs = append(errs, field.Invalid(p, v, msg))
	}
	return errs
}
