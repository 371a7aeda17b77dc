package verify

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/pki"
	"github.com/aggapi/aggapi/fn/sops"
)

// caNamePrefix starts the commonName of every CA aggapi issues (fn/render names them;
// a test ties the two): only a caBundle whose current CA is one of them is renewed by a
// render, so only such an API has a Schedule.
const caNamePrefix = "aggapi CA for "

// Why a re-render is due.
const (
	// DueRenewal: the serving certificate is inside renewBefore.
	DueRenewal = "renewal"
	// DueOverlapEnd: a previous CA's overlap has passed and the caBundle still holds it.
	DueOverlapEnd = "overlap-end"
)

// Timing is how a config renews: its renewBefore and overlap, and where they came from.
type Timing struct {
	RenewBefore, Overlap time.Duration
	// From says where: "config" (--config) or "default" (none given: the defaults).
	From string
}

// Schedule is when a render renews an API's serving certificate and when a previous CA
// leaves its caBundle, as a render of mode generate decides them.
type Schedule struct {
	// Config is the AggregatedAPI (the owner label), APIServices those served by Secret.
	Config      string
	APIServices []string
	Secret      string
	// DatesFrom is where the dates were read: "tls.crt", or "caBundle" when the Secret
	// is SOPS-encrypted (aggapi issues the CA and the serving certificate with the
	// same dates).
	DatesFrom           string
	NotBefore, NotAfter time.Time
	Timing              Timing
	// RenewalFrom is NotAfter less renewBefore: a render from then on renews.
	RenewalFrom time.Time
	PreviousCAs []PreviousCA
	// Due lists why a render at Options.Now changes the output (DueRenewal,
	// DueOverlapEnd); empty when a re-render keeps it as it is.
	Due []string
}

// PreviousCA is a CA of the caBundle that is on its way out after a renewal.
type PreviousCA struct {
	CommonName string
	NotAfter   time.Time
	// LeavesAt is the end of the overlap: a render from then on drops the CA (overlap
	// after the current certificate's NotBefore, or the CA's expiry if that is sooner).
	LeavesAt time.Time
}

// timing is the renewBefore and overlap of config name.
func (o Options) timing(name string) Timing {
	if t, ok := o.Timings[name]; ok {
		return t
	}
	return Timing{RenewBefore: o.DefaultTiming.RenewBefore, Overlap: o.DefaultTiming.Overlap, From: "default"}
}

// schedule records when the render of this APIService's config renews the serving
// certificate in secret, trusted by bundle. Nothing for a caBundle whose current CA
// aggapi did not issue (mode provided) or an APIService of no config.
func (c *checker) schedule(secret *yaml.RNode, bundle []*x509.Certificate) {
	owner := str(c.api, "metadata", "labels", ownerLabel)
	if owner == "" || len(bundle) == 0 {
		return
	}
	ref := secret.GetNamespace() + "/" + secret.GetName()
	key := id(owner, ref, str(c.api, "spec", "caBundle"))
	if s, ok := c.ix.schedules[key]; ok {
		s.APIServices = append(s.APIServices, c.api.GetName())
		return
	}
	current, from := bundle[0], "caBundle"
	var leaf *x509.Certificate
	if sops.Encryption(secret) == "" {
		if b, err := base64.StdEncoding.DecodeString(str(secret, "data", "tls.crt")); err == nil {
			if certs, err := pki.ParseCertsPEM(b); err == nil {
				leaf = certs[0]
			}
		}
	}
	if leaf != nil {
		i := slices.IndexFunc(bundle, func(ca *x509.Certificate) bool { return leaf.CheckSignatureFrom(ca) == nil })
		if i < 0 {
			return // said: the certificate does not verify against the caBundle
		}
		current, from = bundle[i], "tls.crt"
	}
	if !strings.HasPrefix(current.Subject.CommonName, caNamePrefix) {
		return
	}
	dated := current
	if leaf != nil {
		dated = leaf
	}
	notBefore := dated.NotBefore
	t := c.opt.timing(owner)
	s := &Schedule{
		Config: owner, APIServices: []string{c.api.GetName()}, Secret: ref, DatesFrom: from,
		NotBefore: notBefore, NotAfter: dated.NotAfter, Timing: t, RenewalFrom: pki.RenewalTime(dated, t.RenewBefore),
	}
	if !c.opt.Now.Before(s.RenewalFrom) {
		s.Due = append(s.Due, DueRenewal)
	}
	overlapEnd := notBefore.Add(t.Overlap)
	for _, ca := range bundle {
		if ca == current {
			continue
		}
		p := PreviousCA{CommonName: ca.Subject.CommonName, NotAfter: ca.NotAfter, LeavesAt: overlapEnd}
		if ca.NotAfter.Before(p.LeavesAt) {
			p.LeavesAt = ca.NotAfter
		}
		s.PreviousCAs = append(s.PreviousCAs, p)
		if !c.opt.Now.Before(p.LeavesAt) && !slices.Contains(s.Due, DueOverlapEnd) {
			s.Due = append(s.Due, DueOverlapEnd)
		}
	}
	c.ix.schedules[key] = s
	c.ix.scheduleOrder = append(c.ix.scheduleOrder, key)
}

// schedulesOf lists the recorded schedules by config, then Secret.
func (s *Set) schedulesOf() []Schedule {
	var out []Schedule
	for _, k := range s.scheduleOrder {
		sc := *s.schedules[k]
		slices.Sort(sc.APIServices)
		out = append(out, sc)
	}
	slices.SortStableFunc(out, func(a, b Schedule) int {
		if c := strings.Compare(a.Config, b.Config); c != 0 {
			return c
		}
		return strings.Compare(a.Secret, b.Secret)
	})
	return out
}

// RenewalDue tells whether a render is due for an API whose renewBefore and overlap
// came from its config: only then is "due" known, not guessed from the defaults.
func (r Report) RenewalDue() bool {
	return slices.ContainsFunc(r.Schedules, func(s Schedule) bool { return len(s.Due) > 0 && s.Timing.From == "config" })
}

// Duration spells a duration as a config does: 720h, 90m, 1h30m.
func Duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Lines is the schedule as people read it: what, when it expires, from when a render
// renews it, when each previous CA leaves the caBundle, and what a render at now does.
func (s Schedule) Lines(now time.Time) []string {
	from := "the config's"
	if s.Timing.From != "config" {
		from = "the default; --config reads the config's"
	}
	lines := []string{
		fmt.Sprintf("certificate of AggregatedAPI %s (Secret %s; APIService %s):", s.Config, s.Secret, strings.Join(s.APIServices, ", ")),
		fmt.Sprintf("  issued:          %s (read from %s)", stamp(s.NotBefore), s.DatesFrom),
		fmt.Sprintf("  expires:         %s", stamp(s.NotAfter)),
		fmt.Sprintf("  renewed from:    %s (renewBefore %s, %s)", stamp(s.RenewalFrom), Duration(s.Timing.RenewBefore), from),
	}
	if len(s.PreviousCAs) == 0 {
		lines = append(lines, "  previous CA:     none in the caBundle")
	}
	for _, p := range s.PreviousCAs {
		lines = append(lines, fmt.Sprintf("  previous CA:     %q leaves the caBundle from %s (overlap %s, %s)", p.CommonName, stamp(p.LeavesAt), Duration(s.Timing.Overlap), from))
	}
	status := "not due: a re-render changes nothing"
	if len(s.Due) > 0 {
		var what []string
		for _, d := range s.Due {
			switch d {
			case DueRenewal:
				what = append(what, "renewal (a re-render issues a new certificate; the caBundle keeps the previous CA for the overlap)")
			case DueOverlapEnd:
				what = append(what, "overlap end (a re-render drops the previous CA from the caBundle)")
			}
		}
		status = "due: " + strings.Join(what, "; ") + ": re-render and commit"
	}
	return append(lines, fmt.Sprintf("  at %s:  %s", stamp(now), status))
}
