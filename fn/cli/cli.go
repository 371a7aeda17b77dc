package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/clock"
	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/internal/redact"
	"github.com/aggapi/aggapi/fn/internal/resourcelist"
	"github.com/aggapi/aggapi/fn/pki"
	"github.com/aggapi/aggapi/fn/render"
	"github.com/aggapi/aggapi/fn/version"
)

// Env is what a command takes from its surroundings besides its arguments and
// streams: the environment (AGGAPI_NOW), the real clock and the source of keys. Tests
// pass their own, so they can run in parallel and no package variable can change a
// command's time or keys.
type Env struct {
	Getenv func(string) string
	Now    func() time.Time
	// Keys makes the keys of the certificates a command issues; nil: pki.GenerateKey.
	Keys pki.KeySource
}

// WarningsEnvVar makes the function's warnings fatal when it is "error": kustomize
// passes an exec function no flags, but it passes the environment, so CI can refuse a
// render that warns (a patch in the render layer, an edit it replaced).
const WarningsEnvVar = "AGGAPI_WARNINGS"

// warningsFatal reads WarningsEnvVar: unset, empty or "warn" lets warnings pass, "error"
// fails the render on any; another value is an error naming the variable and the value.
func (env Env) warningsFatal() (bool, error) {
	v := ""
	if env.Getenv != nil {
		v = env.Getenv(WarningsEnvVar)
	}
	switch v {
	case "", "warn":
		return false, nil
	case "error":
		return true, nil
	}
	return false, fmt.Errorf("%s=%q: want error (warnings fail the render) or warn (the default)", WarningsEnvVar, v)
}

// OS is the process's environment and the machine's clock.
func OS() Env { return Env{Getenv: os.Getenv, Now: time.Now} }

// clock is the command's one clock: AGGAPI_NOW when set, else env.Now.
func (env Env) clock() (clock.Clock, error) {
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return clock.FromEnv(getenv, env.Now)
}

const usage = `aggapi: a KRM function that renders an extension API server behind the kube-aggregator.

Usage:
  aggapi            read a ResourceList on stdin, write it with the generated objects on stdout
  aggapi verify     check rendered manifests offline (aggapi verify --help)
  aggapi aggregation-layer --dir DIR
                    make the kube-apiserver's front-proxy CA and client certificate,
                    print its aggregation-layer flags (aggapi aggregation-layer --help)
  aggapi import FILE|DIR|-
                    write a config that adopts an installation made without aggapi
                    (upstream YAML, helm template output) and report what changes (aggapi import --help)
  aggapi doctor     check a live cluster, one line per check with the fix (runs aggapi-doctor; aggapi doctor --help)
  aggapi version    print the version and VCS revision of this build (also --version)
  aggapi help       show this help

Run it from kustomize (build --enable-alpha-plugins --enable-exec) or kpt (fn render --allow-exec,
fn eval --exec). The config reference is docs/config.md.
`

// Main runs the command in the process's environment and returns its exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Run(OS(), args, stdin, stdout, stderr)
}

// Run runs the command in env and returns the process exit code. Every message
// leaves through redact: no private key in it, nothing unprintable on a terminal. A
// malformed AGGAPI_NOW stops every command that decides by dates before it does
// anything; a set one is said on stderr, so a forgotten variable in CI is seen.
func Run(env Env, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "doctor" {
		// aggapi-doctor redacts its own output and reads AGGAPI_NOW itself; its
		// streams pass through as they are.
		return Doctor(args[1:], stdin, stdout, stderr)
	}
	stderr = redact.NewWriter(stderr)
	datesFor := func(cmd string) (clock.Clock, bool) {
		c, err := env.clock()
		if err != nil {
			fmt.Fprintf(stderr, "aggapi%s: error: %v\n", cmd, err)
			return c, false
		}
		if c.IsSet() {
			fmt.Fprintf(stderr, "aggapi%s: note: %s\n", cmd, c.Note())
		}
		return c, true
	}
	if len(args) > 0 {
		switch args[0] {
		case "aggregation-layer":
			c, ok := datesFor(" aggregation-layer")
			if !ok {
				return 2
			}
			return aggregationLayer(c, env.Keys, args[1:], stdout, stderr)
		case "verify":
			c, ok := datesFor(" verify")
			if !ok {
				return 2
			}
			// verify's findings on stdout are messages too.
			return verifyAt(c, args[1:], stdin, redact.NewWriter(stdout), stderr)
		case "import":
			return importCmd(args[1:], stdin, stdout, stderr)
		case "version", "--version":
			return Version(args[1:], stdout, stderr)
		case "help", "-h", "--help":
			fmt.Fprint(stdout, usage)
			return 0
		default:
			fmt.Fprintf(stderr, "aggapi: unknown command %q\n\n%s", args[0], usage)
			return 2
		}
	}
	c, ok := datesFor("")
	if !ok {
		return 1
	}
	fatal, err := env.warningsFatal()
	if err != nil {
		fmt.Fprintf(stderr, "aggapi: error: %v\n", err)
		return 1
	}
	return function(c, env.Keys, fatal, stdin, stdout, stderr)
}

const versionUsage = `Usage: aggapi version

Prints the module version and the VCS revision this binary was built from
("(devel)" for a build from a source tree without version control).
`

// Version runs `aggapi version`.
func Version(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			fmt.Fprint(stdout, versionUsage)
			return 0
		}
		fmt.Fprintf(stderr, "aggapi version: unexpected argument %q\n\n%s", args[0], versionUsage)
		return 2
	}
	fmt.Fprintln(stdout, version.Line("aggapi"))
	return 0
}

// Function is the KRM function in the process's environment.
func Function(stdin io.Reader, stdout, stderr io.Writer) int {
	return Run(OS(), nil, stdin, stdout, stderr)
}

// function is the KRM function at clock c, with keys from keys (nil: pki.GenerateKey). Every error result is also written to
// stderr, because kustomize shows a failing function's stderr but not its results.
// Whatever is written to stderr goes through redact, as the results do
// (render.ResultsNode). A set clock is also an info result, so kpt shows it. With
// warningsFatal a render that warns fails as one with an error does.
func function(c clock.Clock, keys pki.KeySource, warningsFatal bool, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	stderr = redact.NewWriter(stderr)
	defer func() {
		// kyaml panics on some malformed documents; a user gets a message, not a stack.
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "aggapi: error: malformed input: %v\n", p)
			code = 1
		}
	}()
	// Decoding the embedded schema is one-time setup: do it on the other core while this
	// one reads the input.
	go config.Warm()
	data, err := resourcelist.ReadInput(stdin)
	var mem inputMemory
	if err == nil {
		var restore func()
		if mem, restore, err = memoryPolicy(data); err == nil {
			defer restore()
		}
	}
	var in *resourcelist.List
	if err == nil {
		in, err = resourcelist.Parse(data)
	}
	if err == nil {
		err = mem.checkWrite(in.LargestNodes)
	}
	if err != nil {
		fmt.Fprintf(stderr, "aggapi: error: reading the ResourceList from stdin: %v\n", err)
		return 1
	}
	input := in.Items
	out := render.Process(input, in.FunctionConfig, c.Now(), render.WithProgress(stderr), render.WithKeySource(keys))
	if warningsFatal {
		out = render.FailOnWarnings(out, input, WarningsEnvVar+"=error")
	}
	input = nil
	if c.IsSet() {
		out.Results = append([]render.Result{{Severity: render.Info, Message: c.Note()}}, out.Results...)
	}
	in.Items = nil // out.Items holds what is written, and the writer lets go of each item
	if out.Failed && !allObjects(out.Items) {
		out.Items = nil // what is not an object cannot be written back
	}
	var results *yaml.RNode
	if len(out.Results) > 0 {
		results = render.ResultsNode(out.Results)
	}
	apiVersion, kind := in.APIVersion, in.Kind
	if kind == "" {
		apiVersion, kind = kio.ResourceListAPIVersion, kio.ResourceListKind
	}
	fnConfig := in.FunctionConfig
	if out.OmitFunctionConfig {
		fnConfig = nil
	}
	if err := resourcelist.Write(stdout, apiVersion, kind, out.Items, in.Raw, fnConfig, results); err != nil {
		fmt.Fprintf(stderr, "aggapi: error: writing the ResourceList: %v\n", err)
		return 1
	}
	writeWarnings(stderr, out.Results)
	if out.Failed {
		for _, res := range out.Results {
			if res.Severity == render.Error {
				fmt.Fprintf(stderr, "aggapi: error: %s\n", res.Line())
			}
		}
		return 1
	}
	return 0
}

// writeWarnings puts warning results on stderr too: kustomize does not show results,
// and a warning (an edit the render replaced, a broken previous Secret) must be seen.
func writeWarnings(stderr io.Writer, results []render.Result) {
	for _, res := range results {
		if res.Severity == render.Warning {
			fmt.Fprintf(stderr, "aggapi: warning: %s\n", res.Message)
		}
	}
}

func allObjects(items []*yaml.RNode) bool {
	for _, it := range items {
		if it.YNode().Kind != yaml.MappingNode {
			return false
		}
	}
	return true
}
