package cli

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/aggapi/aggapi/fn/importer"
	"github.com/aggapi/aggapi/fn/verify"
)

const importUsage = `Usage: aggapi import [flags] FILE|DIR|- ...

Reads the manifests of an extension API server installed without aggapi (upstream
YAML, helm template output; - is stdin) and writes an AggregatedAPI config on stdout
whose render updates those objects in place: same names, namespace, pod selector and
container name, image, args, RBAC and pod settings (spec.server.podTemplate holds what
differs from what aggapi generates). A report of every change the adoption brings goes
to stderr (or --report FILE): the caBundle that replaces insecureSkipTLSVerify, the
hardening and probe settings aggapi adds, the objects it adds, and the objects it does
not render, which you keep applying alongside.

Flags:
`

// importCmd runs `aggapi import`: exit 0 with the config on stdout, 1 when the input
// cannot be imported (nothing on stdout), 2 on bad usage.
func importCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		// kyaml panics on some malformed documents; a user gets a message, not a stack.
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "aggapi import: error: malformed input: %v\n", p)
			code = 1
		}
	}()
	fs := flag.NewFlagSet("aggapi import", flag.ContinueOnError)
	name := fs.String("name", "", "the config's metadata.name (default: the pods' app.kubernetes.io/name, else the Deployment's name)")
	reportFile := fs.String("report", "", "write the report to this file instead of stderr")
	output := fs.String("o", "text", "the report's format: text or json")
	execPath := fs.String("exec", "", "add the config.kubernetes.io/function annotation with this exec path (kustomize's transformer form)")
	maxSize := byteSize(verify.DefaultMaxBytes)
	fs.Var(&maxSize, "max-size", "read at most `SIZE` of YAML over every file and stdin together (bytes, or with Ki, Mi, Gi)")
	if code, done := parseFlags(fs, args, importUsage, stdout, stderr); done {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintf(stderr, "aggapi import: give the manifests: FILE, DIR or - for stdin\n\n%s", importUsage)
		return 2
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "aggapi import: -o %q: want text or json\n", *output)
		return 2
	}
	objs, err := importer.Read(fs.Args(), stdin, int64(maxSize))
	if err != nil {
		fmt.Fprintf(stderr, "aggapi import: error: %v\n", err)
		return 1
	}
	res, err := importer.Import(objs, importer.Options{Name: *name, Exec: *execPath, Sources: fs.Args()})
	if err != nil {
		fmt.Fprintf(stderr, "aggapi import: error: %v\n", err)
		return 1
	}
	var report bytes.Buffer
	if *output == "json" {
		err = res.Report.WriteJSON(&report)
	} else {
		err = res.Report.WriteText(&report)
	}
	if err != nil {
		fmt.Fprintf(stderr, "aggapi import: error: writing the report: %v\n", err)
		return 1
	}
	if *reportFile != "" {
		if err := os.WriteFile(*reportFile, report.Bytes(), 0o644); err != nil {
			fmt.Fprintf(stderr, "aggapi import: error: %v\n", err)
			return 1
		}
	} else if _, err := stderr.Write(report.Bytes()); err != nil {
		return 1
	}
	if _, err := stdout.Write(res.Config); err != nil {
		fmt.Fprintf(stderr, "aggapi import: error: writing the config: %v\n", err)
		return 1
	}
	return 0
}
