package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aggapi/aggapi/fn/clock"
	"github.com/aggapi/aggapi/fn/frontproxy"
	"github.com/aggapi/aggapi/fn/internal/redact"
	"github.com/aggapi/aggapi/fn/pki"
)

const aggregationLayerUsage = `Usage: aggapi aggregation-layer --dir DIR [flags]

Makes the kube-apiserver's aggregation-layer credentials in DIR: the front-proxy
(request-header) CA front-proxy-ca.crt and the proxy client certificate
front-proxy-client.crt/.key signed by it, reusing them while they are valid (a reused
key file that others can read is made 0600). Prints the kube-apiserver flags that use
them on stdout, one a line. The CA's key is never written.
DIR is made 0700 when it does not exist. A new set of files is written whole or not
at all (temporary files, synced, then renamed); a symlink in place of one of the
files is refused. DIR and --flag-dir take letters, digits and / . _ - + @ : , = ~.
Exit status: 0 on success, 1 on errors, 2 on bad usage.

Flags:
`

// AggregationLayer runs `aggapi aggregation-layer` in the process's environment.
func AggregationLayer(args []string, stdout, stderr io.Writer) int {
	return Run(OS(), append([]string{"aggregation-layer"}, args...), nil, stdout, stderr)
}

// aggregationLayer runs `aggapi aggregation-layer` at clock c, with keys from keys
// (nil: pki.GenerateKey).
func aggregationLayer(c clock.Clock, keys pki.KeySource, args []string, stdout, stderr io.Writer) int {
	stderr = redact.NewWriter(stderr)
	fs := flag.NewFlagSet("aggregation-layer", flag.ContinueOnError)
	var o frontproxy.Options
	var alg string
	fs.StringVar(&o.Dir, "dir", "", "directory for the certificate files (required)")
	fs.StringVar(&o.FlagDir, "flag-dir", "", "the directory as the kube-apiserver sees it, for the printed flags (default: --dir, absolute)")
	fs.StringVar(&o.ClientName, "allowed-name", "front-proxy-client", "CN of the proxy client certificate, and --requestheader-allowed-names: 1 to 64 letters, digits and . _ : @ -")
	fs.StringVar(&alg, "key-algorithm", string(pki.ECDSAP256), keyAlgorithmChoices())
	fs.DurationVar(&o.Validity, "validity", 8760*time.Hour, fmt.Sprintf("lifetime of the client certificate and its CA (%s to %s)", hours(frontproxy.MinValidity), hours(frontproxy.MaxValidity)))
	fs.DurationVar(&o.RenewBefore, "renew-before", 720*time.Hour, "reissue when the certificate expires within this duration")
	fs.BoolVar(&o.AggregatorRouting, "aggregator-routing", false, "also print --enable-aggregator-routing=true (control planes without kube-proxy)")
	if code, done := parseFlags(fs, args, aggregationLayerUsage, stdout, stderr); done {
		return code
	}
	o.KeyAlgorithm = pki.KeyAlgorithm(alg)
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "aggapi aggregation-layer: "+format+"\n", a...)
		return 2
	}
	switch {
	case o.Dir == "":
		return bad("--dir is required")
	case o.Validity < frontproxy.MinValidity || o.Validity > frontproxy.MaxValidity:
		return bad("--validity %s: give %s to %s", o.Validity, hours(frontproxy.MinValidity), hours(frontproxy.MaxValidity))
	case o.RenewBefore < 0 || o.RenewBefore >= o.Validity:
		return bad("--renew-before %s: give 0 or more, less than --validity (%s)", o.RenewBefore, o.Validity)
	case fs.NArg() > 0:
		return bad("unexpected argument %q", fs.Arg(0))
	}
	if err := frontproxy.CheckClientName(o.ClientName); err != nil {
		return bad("--allowed-name %q: %v", o.ClientName, err)
	}
	// Both are printed in the flags: a newline there would print flags of its own.
	if err := frontproxy.CheckDir(o.Dir); err != nil {
		return bad("--dir %q: %v", o.Dir, err)
	}
	if err := frontproxy.CheckDir(o.FlagDir); o.FlagDir != "" && err != nil {
		return bad("--flag-dir %q: %v", o.FlagDir, err)
	}
	o.Keys = keys
	res, err := frontproxy.Ensure(o, c.Now())
	var flagDir *frontproxy.FlagDirError
	if errors.As(err, &flagDir) {
		return bad("%v", err)
	}
	if err != nil {
		fmt.Fprintf(stderr, "aggapi aggregation-layer: %v\n", err)
		return 1
	}
	if res.KeyModeWas != 0 {
		fmt.Fprintf(stderr, "aggapi: %s was readable by others (%v): made it 0600\n", frontproxy.KeyFile, res.KeyModeWas)
	}
	if res.Issued {
		fmt.Fprintf(stderr, "aggapi: issued the front-proxy CA and client certificate %q in %s, expires %s (%s)\n", o.ClientName, o.Dir, res.Expires.UTC().Format(time.RFC3339), res.Reason)
	} else {
		fmt.Fprintf(stderr, "aggapi: reused the front-proxy credentials in %s, expires %s\n", o.Dir, res.Expires.UTC().Format(time.RFC3339))
	}
	for _, f := range res.Flags {
		fmt.Fprintln(stdout, f)
	}
	return 0
}

// hours prints a duration in hours, the unit the flags are usually given in.
func hours(d time.Duration) string { return fmt.Sprintf("%dh", int64(d/time.Hour)) }

// parseFlags parses a subcommand's flags. Help (-h, --help) prints the usage and the
// flags on stdout and exits 0; a bad flag prints them on stderr and exits 2.
func parseFlags(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) (code int, done bool) {
	fs.SetOutput(stderr) // the flag package's own message for a bad flag
	fs.Usage = func() {}
	printUsage := func(w io.Writer) {
		fmt.Fprint(w, usage)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(stderr)
	}
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		printUsage(stdout)
		return 0, true
	case err != nil:
		printUsage(stderr)
		return 2, true
	}
	return 0, false
}

// keyAlgorithmChoices spells pki's list of key algorithms for the usage: "A, B or C".
func keyAlgorithmChoices() string {
	algs := pki.KeyAlgorithms()
	names := make([]string, len(algs))
	for i, a := range algs {
		names[i] = string(a)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
