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

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	aggregator "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"

	"github.com/aggapi/aggapi/fn/clock"
	"github.com/aggapi/aggapi/fn/internal/redact"
	"github.com/aggapi/aggapi/fn/version"
)

const usage = `Usage: aggapi doctor [-f FILE|DIR|-]... [--config FILE|-] [--kubeconfig FILE] [--context NAME]
                     [-o text|json] [-v] [--watch DURATION] [--dial-endpoints=false]
                     [--warn-within DURATION] [--request-timeout DURATION]

Checks a live cluster for aggregated APIs and names the cause of each problem with
its fix (docs/cli.md lists every cause):
  - the APIService API is served, you may create APIServices, and ConfigMap
    kube-system/extension-apiserver-authentication carries the request-header CA;
  - every APIService served by a Service (or those of -f / --config): who manages
    it (aggapi, Helm, field managers) and whether two installers claim it; its
    Available condition read into a cause (the dialed address and port, the
    platform's firewall rule); its caBundle against the manifests, the Secret the
    pods mount and what each ready endpoint serves; cert-manager's Certificate and
    cainjector; the Service's ports against the containers'; pods not ready with
    their reasons and log denials; the server ServiceAccount's permissions and
    the NetworkPolicies in the way (when not Available); empty discovery;
  - namespaces stuck in Terminating, with the APIService that blocks them;
  - with --watch, APIServices whose availability flaps.

Credentials are found like kubectl's: --kubeconfig, else $KUBECONFIG, else
~/.kube/config (or the in-cluster service account); --context picks a context.

Output: findings most severe first, "FAIL: <object>: <evidence> — fix: <fix>
[<cause>]" (also "warn:" and "note:", a note being what was not checked and why);
-v adds the passed checks ("ok: ..."); -o json prints one object (docs/cli.md).
Every request is bounded by --request-timeout, each TLS handshake by --dial-timeout.
Exit status: 0 when no finding is an error (warnings and notes allowed), 1 when one
is, 2 on bad usage or unreadable input.

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
	output := fs.String("o", "text", "output format: text or json")
	verbose := fs.Bool("v", false, "list the passed checks too")
	watch := fs.Duration("watch", 0, "sample the APIServices' availability for this long (such as 30s) to catch flapping")
	watchInterval := fs.Duration("watch-interval", 2*time.Second, "the interval of --watch's samples")
	dialEndpoints := fs.Bool("dial-endpoints", true, "dial each ready endpoint (at most 3 per Service) for the certificate it serves")
	dialTimeout := fs.Duration("dial-timeout", 2*time.Second, "timeout of each endpoint's TLS handshake")
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
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "aggapi doctor: -o %q: give text or json\n", *output)
		return ExitUsage
	}
	if *watch < 0 || *watchInterval <= 0 || *dialTimeout <= 0 {
		fmt.Fprintln(stderr, "aggapi doctor: --watch must be 0 or more, --watch-interval and --dial-timeout more than 0")
		return ExitUsage
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
		return ExitUsage
	}

	write := func(host string, now time.Time, results []Result) int {
		report := NewReport(host, now, results)
		var err error
		if *output == "json" {
			err = report.WriteJSON(stdout)
		} else {
			err = report.WriteText(stdout, results, *verbose)
		}
		if err != nil {
			fmt.Fprintf(stderr, "aggapi doctor: %v\n", err)
			return ExitFindings
		}
		return report.ExitCode
	}

	cfg, err := restConfig(*kubeconfig, *kubeContext)
	if err != nil {
		return write("(no cluster)", time.Now(), []Result{{Status: Fail, Cause: CauseClusterUnreachable, What: "kubeconfig", Message: err.Error(),
			Fix: "give --kubeconfig FILE (and --context NAME), or set $KUBECONFIG"}})
	}
	cfg.Timeout = *timeout
	boundBodies(cfg, MaxResponseBytes)
	cfg.UserAgent = "aggapi-doctor"
	// A diagnosis is one burst of reads (TestRequestsBounded counts them); the
	// kube-apiserver's priority and fairness still orders them among other clients.
	cfg.QPS, cfg.Burst = 200, 400
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
	dyn, err := dynamic.NewForConfig(cfg)
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
		Kube: kube, Aggregator: agg, Dynamic: dyn,
		Now: now.Now(), WarnWithin: *warnWithin,
		DialEndpoints: *dialEndpoints, DialTimeout: *dialTimeout,
		Watch: *watch, WatchInterval: *watchInterval,
	}
	results := d.Run(ctx, targets, len(files) == 0 && *configFile == "")
	return write(cfg.Host, d.Now, results)
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
