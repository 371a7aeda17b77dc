package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"
)

// Exit statuses of `aggapi doctor`, as `aggapi verify` has them: warnings and notes
// leave a run healthy.
const (
	ExitHealthy  = 0 // no finding of severity error
	ExitFindings = 1 // at least one finding of severity error
	ExitUsage    = 2 // bad flags or unreadable input: nothing was checked
)

// Report is what `aggapi doctor -o json` prints: one object, every list present
// (empty, never null). report.schema.json describes it; TestReportSchema holds the
// two together.
type Report struct {
	Cluster  string `json:"cluster"`
	Now      string `json:"now"`
	ExitCode int    `json:"exitCode"`
	Checks   int    `json:"checks"`
	Errors   int    `json:"errors"`
	Warnings int    `json:"warnings"`
	Notes    int    `json:"notes"`
	// Findings are the errors, warnings and notes, most severe first.
	Findings []Finding `json:"findings"`
	// Passed are the checks that found nothing, in the order they ran.
	Passed []Passed `json:"passed"`
}

// Finding is one error, warning or note.
type Finding struct {
	Severity string `json:"severity"` // "error", "warning" or "note"
	Cause    string `json:"cause"`    // a stable kebab-case id (docs/cli.md lists them)
	Object   string `json:"object"`
	Evidence string `json:"evidence"`
	Fix      string `json:"fix"`
	// AskProvider is what to ask the cluster's provider; "" when the fix is in the
	// APIService's own manifests.
	AskProvider string `json:"askProvider"`
}

// Passed is one check that found nothing.
type Passed struct {
	Object  string `json:"object"`
	Message string `json:"message"`
}

var severityWords = map[Status]string{Fail: "error", Warn: "warning", Note: "note"}

// Sorted returns results most severe first, in run order within a severity.
func Sorted(results []Result) []Result {
	out := slices.Clone(results)
	slices.SortStableFunc(out, func(a, b Result) int { return a.Status.rank() - b.Status.rank() })
	return out
}

// NewReport summarises results.
func NewReport(cluster string, now time.Time, results []Result) Report {
	r := Report{Cluster: cluster, Now: now.UTC().Format(time.RFC3339), Checks: len(results), Findings: []Finding{}, Passed: []Passed{}}
	for _, res := range Sorted(results) {
		switch res.Status {
		case OK:
			r.Passed = append(r.Passed, Passed{Object: res.What, Message: res.Message})
			continue
		case Fail:
			r.Errors++
		case Warn:
			r.Warnings++
		case Note:
			r.Notes++
		}
		r.Findings = append(r.Findings, Finding{Severity: severityWords[res.Status], Cause: res.Cause, Object: res.What,
			Evidence: res.Message, Fix: res.Fix, AskProvider: res.Ask})
	}
	r.ExitCode = ExitHealthy
	if r.Errors > 0 {
		r.ExitCode = ExitFindings
	}
	return r
}

// WriteText writes the human report: findings most severe first, the passed checks
// only when verbose, and a summary line.
func (r Report) WriteText(w io.Writer, results []Result, verbose bool) error {
	for _, res := range Sorted(results) {
		if res.Status == OK && !verbose {
			continue
		}
		if _, err := fmt.Fprintln(w, res); err != nil {
			return err
		}
	}
	hidden := ""
	if !verbose && len(r.Passed) > 0 {
		hidden = " (-v lists the passed checks)"
	}
	_, err := fmt.Fprintf(w, "%d check(s) on %s: %d failed, %d warning(s), %d note(s), %d passed%s\n",
		r.Checks, r.Cluster, r.Errors, r.Warnings, r.Notes, len(r.Passed), hidden)
	return err
}

// WriteJSON writes the report as one indented JSON object.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
