package cli

import (
	"encoding/json"
	"io"
	"slices"
	"time"

	"github.com/aggapi/aggapi/fn/clock"
	"github.com/aggapi/aggapi/fn/verify"
)

// verifyJSON is what `aggapi verify -o json` prints: one object, every list present
// (empty, never null), times in RFC 3339 UTC, durations as a config spells them.
// docs/cli.md describes it; TestVerifyJSONShape holds it to that.
type verifyJSON struct {
	Now         string        `json:"now"`
	Clock       string        `json:"clock"` // "AGGAPI_NOW" or "real"
	ExitCode    int           `json:"exitCode"`
	RenewalDue  bool          `json:"renewalDue"`
	APIServices int           `json:"apiServices"`
	Errors      int           `json:"errors"`
	Warnings    int           `json:"warnings"`
	Findings    []findingJSON `json:"findings"`
	// Certificates are the schedules, one per API's serving certificate.
	Certificates []certificateJSON `json:"certificates"`
}

type findingJSON struct {
	Severity string `json:"severity"`
	Object   string `json:"object"`
	Message  string `json:"message"`
}

type certificateJSON struct {
	Config      string           `json:"config"`
	APIServices []string         `json:"apiServices"`
	Secret      string           `json:"secret"`
	DatesFrom   string           `json:"datesFrom"`
	NotBefore   string           `json:"notBefore"`
	NotAfter    string           `json:"notAfter"`
	RenewBefore string           `json:"renewBefore"`
	Overlap     string           `json:"overlap"`
	TimingFrom  string           `json:"timingFrom"` // "config" or "default"
	RenewalFrom string           `json:"renewalFrom"`
	PreviousCAs []previousCAJSON `json:"previousCAs"`
	Due         []string         `json:"due"`
}

type previousCAJSON struct {
	CommonName     string `json:"commonName"`
	NotAfter       string `json:"notAfter"`
	LeavesCABundle string `json:"leavesCABundle"`
}

func writeVerifyJSON(w io.Writer, c clock.Clock, r verify.Report, code int) error {
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	out := verifyJSON{
		Now: ts(c.Now()), Clock: "real", ExitCode: code, RenewalDue: slices.ContainsFunc(r.Schedules, func(s verify.Schedule) bool { return len(s.Due) > 0 }),
		APIServices: r.APIServices, Errors: r.Errors(), Warnings: len(r.Findings) - r.Errors(),
		Findings: []findingJSON{}, Certificates: []certificateJSON{},
	}
	if c.IsSet() {
		out.Clock = clock.EnvVar
	}
	for _, f := range r.Findings {
		out.Findings = append(out.Findings, findingJSON{string(f.Severity), f.Object, f.Message})
	}
	for _, s := range r.Schedules {
		cj := certificateJSON{
			Config: s.Config, APIServices: s.APIServices, Secret: s.Secret, DatesFrom: s.DatesFrom,
			NotBefore: ts(s.NotBefore), NotAfter: ts(s.NotAfter),
			RenewBefore: verify.Duration(s.Timing.RenewBefore), Overlap: verify.Duration(s.Timing.Overlap), TimingFrom: s.Timing.From,
			RenewalFrom: ts(s.RenewalFrom), PreviousCAs: []previousCAJSON{}, Due: append([]string{}, s.Due...),
		}
		for _, p := range s.PreviousCAs {
			cj.PreviousCAs = append(cj.PreviousCAs, previousCAJSON{p.CommonName, ts(p.NotAfter), ts(p.LeavesAt)})
		}
		out.Certificates = append(out.Certificates, cj)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
