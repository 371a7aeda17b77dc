package cli

import (
	"flag"
	"fmt"
	"io"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/verify"
)

const verifyUsage = `Usage: aggapi verify [--config FILE|DIR ...] [--warn-within DURATION] [FILE|DIR ...]

Checks rendered manifests offline, for every APIService: the Service it names and the
Deployment behind it exist, the serving certificate in the mounted Secret verifies
against the caBundle for <service>.<namespace>.svc and matches its key, its remaining
lifetime, the auth-delegator and auth-reader bindings of the pods' ServiceAccount, and
that no APIService skips TLS verification. Reads stdin without arguments (multi-document
YAML or a ResourceList); a directory is read recursively (*.yaml, *.yml).

With --config (repeatable; a file or directory holding AggregatedAPI configs), it also
checks that the manifests were rendered from exactly these configs: every object a
config generates carries aggapi.dev/config-digest, the digest of the config after
defaulting, and a render that was skipped or not redone after a config change fails,
naming the objects. Run it in CI after rendering: render, verify --config, fail.

Exit status: 0 when no errors (warnings allowed), 1 on errors, 2 on bad usage.
`

// Verify runs `aggapi verify`.
func Verify(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, verifyUsage) }
	warnWithin := fs.Duration("warn-within", 720*time.Hour, "warn about certificates that expire within this duration")
	var configs configFlag
	fs.Var(&configs, "config", "AggregatedAPI config file or directory the manifests must be rendered from (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	expected, err := loadConfigs(configs, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "aggapi verify: %v\n", err)
		return 1
	}
	nodes, err := readManifests(fs.Args(), stdin)
	if err != nil {
		fmt.Fprintf(stderr, "aggapi verify: %v\n", err)
		return 1
	}
	report := verify.Manifests(nodes, verify.Options{Now: Now(), WarnWithin: *warnWithin})
	report.Findings = append(report.Findings, verify.Stale(nodes, expected)...)
	verify.Sort(report.Findings)
	for _, f := range report.Findings {
		fmt.Fprintln(stdout, f)
	}
	fmt.Fprintf(stdout, "checked %d APIService(s): %d error(s), %d warning(s)\n",
		report.APIServices, report.Errors(), len(report.Findings)-report.Errors())
	if report.Errors() > 0 {
		return 1
	}
	return 0
}

func readManifests(paths []string, stdin io.Reader) ([]*yaml.RNode, error) {
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	var all []*yaml.RNode
	for _, p := range paths {
		nodes, err := verify.ReadManifests(p, stdin)
		if err != nil {
			return nil, err
		}
		all = append(all, nodes...)
	}
	return all, nil
}
