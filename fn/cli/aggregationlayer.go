package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aggapi/aggapi/fn/frontproxy"
	"github.com/aggapi/aggapi/fn/pki"
)

const aggregationLayerUsage = `Usage: aggapi aggregation-layer --dir DIR [flags]

Makes the kube-apiserver's aggregation-layer credentials in DIR: the front-proxy
(request-header) CA front-proxy-ca.crt and the proxy client certificate
front-proxy-client.crt/.key signed by it, reusing them while they are valid. Prints the
kube-apiserver flags that use them on stdout, one a line. The CA's key is never written.

Flags:
`

// AggregationLayer runs `aggapi aggregation-layer`.
func AggregationLayer(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("aggregation-layer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, aggregationLayerUsage); fs.PrintDefaults() }
	var o frontproxy.Options
	var alg string
	fs.StringVar(&o.Dir, "dir", "", "directory for the certificate files (required)")
	fs.StringVar(&o.FlagDir, "flag-dir", "", "the directory as the kube-apiserver sees it, for the printed flags (default: --dir, absolute)")
	fs.StringVar(&o.ClientName, "allowed-name", "front-proxy-client", "CN of the proxy client certificate, and --requestheader-allowed-names")
	fs.StringVar(&alg, "key-algorithm", string(pki.ECDSAP256), keyAlgorithmChoices())
	fs.DurationVar(&o.Validity, "validity", 8760*time.Hour, "lifetime of the client certificate and its CA")
	fs.DurationVar(&o.RenewBefore, "renew-before", 720*time.Hour, "reissue when the certificate expires within this duration")
	fs.BoolVar(&o.AggregatorRouting, "aggregator-routing", false, "also print --enable-aggregator-routing=true (control planes without kube-proxy)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.KeyAlgorithm = pki.KeyAlgorithm(alg)
	switch {
	case o.Dir == "":
		fmt.Fprintln(stderr, "aggapi aggregation-layer: --dir is required")
		return 2
	case o.RenewBefore >= o.Validity || o.Validity <= 0:
		fmt.Fprintln(stderr, "aggapi aggregation-layer: --renew-before must be less than --validity")
		return 2
	case strings.ContainsAny(o.ClientName, ", "):
		fmt.Fprintln(stderr, "aggapi aggregation-layer: --allowed-name is one name")
		return 2
	}
	res, err := frontproxy.Ensure(o, Now())
	if err != nil {
		fmt.Fprintf(stderr, "aggapi aggregation-layer: %v\n", err)
		return 1
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

// keyAlgorithmChoices spells pki's list of key algorithms for the usage: "A, B or C".
func keyAlgorithmChoices() string {
	algs := pki.KeyAlgorithms()
	names := make([]string, len(algs))
	for i, a := range algs {
		names[i] = string(a)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
