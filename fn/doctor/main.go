package doctor

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	aggregator "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"

	"github.com/aggapi/aggapi/fn/clock"
	"github.com/aggapi/aggapi/fn/internal/redact"
	"github.com/aggapi/aggapi/fn/version"
)

const usage = `Usage: aggapi doctor [-f FILE|DIR|-]... [--config FILE|-] [--kubeconfig FILE] [--context NAME]
                     [--warn-within DURATION] [--request-timeout DURATION]

Checks a live cluster for an aggregated API, one line per check with the fix:
  1. the APIService API (apiregistration.k8s.io/v1) is served;
  2. you may create APIServices (SelfSubjectAccessReview);
  3. ConfigMap kube-system/extension-apiserver-authentication carries the
     kube-apiserver's request-header CA (its aggregation layer is configured);
  4. for every APIService of the rendered manifests (-f) or of the config (--config):
     its Available condition, with the likely cause and fix of a failure, and its
     caBundle against the rendered one (not for cert-manager or OpenShift injection);
  5. the serving certificate in the Secret mounted by the Deployment behind its
     Service verifies against the live caBundle for <service>.<namespace>.svc,
     and when it expires.
Without -f or --config, step 4 and 5 cover the APIServices labelled aggapi.dev/owner.

Credentials are found like kubectl's: --kubeconfig, else $KUBECONFIG, else
~/.kube/config (or the in-cluster service account); --context picks a context.

Output: "ok: ...", "warn: ... — fix: ...", "FAIL: <what>: <message> — fix: <fix>".
Exit status: 0 when nothing failed (warnings allowed), 1 on failures, 2 on bad usage.

Flags:
`

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// Main runs `aggapi doctor` (the aggapi-doctor binary) and returns the exit code.
// Its output shows what the cluster holds: it leaves through redact, so no private
// key is printed and nothing unprintable reaches the terminal.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	stdout, stderr = redact.NewWriter(stdout), redact.NewWriter(stderr)
	fs := flag.NewFlagSet("aggapi doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var files stringList
	fs.Var(&files, "f", "rendered manifests: a multi-document YAML file, a directory, or - for stdin (repeatable)")
	fs.Var(&files, "filename", "same as -f")
	configFile := fs.String("config", "", "an AggregatedAPI config (file, or - for stdin): check the APIServices it renders")
	kubeconfig := fs.String("kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
	kubeContext := fs.String("context", "", "the kubeconfig context to use (default: its current-context)")
	warnWithin := fs.Duration("warn-within", 720*time.Hour, "warn about certificates that expire within this duration")
	timeout := fs.Duration("request-timeout", 15*time.Second, "timeout of each request to the cluster")
	showVersion := fs.Bool("version", false, "print the version and VCS revision of aggapi-doctor and exit")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.Line("aggapi-doctor"))
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "aggapi doctor: unexpected argument %q (rendered manifests go after -f)\n", fs.Arg(0))
		return 2
	}
	if *timeout <= 0 {
		// client-go reads 0 as no timeout at all: a silent server would hang doctor.
		fmt.Fprintf(stderr, "aggapi doctor: --request-timeout %s: give a positive duration, such as 15s\n", *timeout)
		return 2
	}
	if len(files) > 0 && *configFile != "" {
		fmt.Fprintln(stderr, "aggapi doctor: give -f (rendered manifests) or --config (an AggregatedAPI config), not both")
		return 2
	}
	stdinUses := 0
	for _, f := range append([]string{*configFile}, files...) {
		if f == "-" {
			stdinUses++
		}
	}
	if stdinUses > 1 {
		fmt.Fprintln(stderr, "aggapi doctor: stdin (-) can be read only once")
		return 2
	}

	var targets []Target
	var err error
	switch {
	case len(files) > 0:
		targets, err = TargetsFromManifests(files, stdin)
	case *configFile != "":
		targets, err = TargetsFromConfig(*configFile, stdin)
	}
	if err != nil {
		fmt.Fprintf(stderr, "aggapi doctor: %v\n", err)
		return 1
	}

	cfg, err := restConfig(*kubeconfig, *kubeContext)
	if err != nil {
		fmt.Fprintf(stdout, "%s\n", Result{Status: Fail, What: "kubeconfig", Message: err.Error(),
			Fix: "give --kubeconfig FILE (and --context NAME), or set $KUBECONFIG"})
		return 1
	}
	cfg.Timeout = *timeout
	boundBodies(cfg, MaxResponseBytes)
	cfg.UserAgent = "aggapi-doctor"
	cfg.QPS, cfg.Burst = 50, 100
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "aggapi doctor: %v\n", err)
		return 1
	}
	agg, err := aggregator.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "aggapi doctor: %v\n", err)
		return 1
	}

	// AGGAPI_NOW previews the certificate checks at another time, as it does for the
	// render and verify; a set clock is said, so it is not forgotten.
	now, err := clock.FromEnv(os.Getenv, time.Now)
	if err != nil {
		fmt.Fprintf(stderr, "aggapi doctor: error: %v\n", err)
		return 2
	}
	if now.IsSet() {
		fmt.Fprintf(stderr, "aggapi doctor: note: %s\n", now.Note())
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	d := &Doctor{
		Kube: kube, Aggregator: agg,
		Now: now.Now(), WarnWithin: *warnWithin,
		Emit: func(r Result) { fmt.Fprintln(stdout, r) },
	}
	results := d.Run(ctx, targets, len(files) == 0 && *configFile == "")
	failed, warned := Failures(results), 0
	for _, r := range results {
		if r.Status == Warn {
			warned++
		}
	}
	fmt.Fprintf(stdout, "%d check(s) on %s: %d failed, %d warning(s)\n", len(results), cfg.Host, failed, warned)
	if failed > 0 {
		return 1
	}
	return 0
}

// restConfig loads credentials the way kubectl does, each kubeconfig file checked
// first (boundedKubeconfig). Unlike kubectl it never migrates ~/.kube/.kubeconfig:
// a diagnosis writes nothing.
func restConfig(kubeconfig, kubeContext string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	rules.MigrationRules = nil
	overrides := &clientcmd.ConfigOverrides{CurrentContext: kubeContext}
	loader := boundedKubeconfig{rules, MaxKubeconfigBytes}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(loader, overrides).ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, errors.New("no kubeconfig found (no --kubeconfig, no $KUBECONFIG, no ~/.kube/config) and not running in a cluster")
		}
		return nil, err
	}
	return cfg, nil
}
