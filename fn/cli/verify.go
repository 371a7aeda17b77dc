package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/clock"
	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/verify"
)

const verifyUsage = `Usage: aggapi verify [--config FILE|DIR ...] [-o text|json] [--edits error|warn|off] [--warn-within DURATION] [--max-size SIZE] [FILE|DIR ...]

Checks rendered manifests offline, for every APIService: the Service it names and the
Deployment behind it exist, the serving certificate in the mounted Secret verifies
against the caBundle for <service>.<namespace>.svc and matches its key, its remaining
lifetime, the auth-delegator and auth-reader bindings of the pods' ServiceAccount, and
that no APIService skips TLS verification. Reads stdin without arguments (multi-document
YAML, a ResourceList or a List), and with arguments only as "-" (a piped stdin that
is not read gives a warning); a directory is read recursively (*.yaml, *.yml). An
argument holding AggregatedAPI configs and no rendered objects is a usage error: a
config goes after --config, one --config per file or directory.
Only regular files are read (symlinks followed, not into directories), and at most
--max-size in all.

With --config (repeatable; a file or directory holding AggregatedAPI configs), it also
checks that the manifests were rendered from exactly these configs: every object a
config generates carries aggapi.dev/config-digest, the digest of the config after
defaulting, and a render that was skipped or not redone after a config change fails,
naming the objects. Run it in CI after rendering: render, verify --config, fail.

For every API whose caBundle trusts a CA aggapi issued (mode generate) it prints when
the serving certificate expires, from when a render renews it (NotAfter less
renewBefore) and when each previous CA leaves the caBundle (the end of the overlap);
renewBefore and overlap are the config's with --config, else the defaults (720h, 24h).
-o json prints the same as one JSON object (docs/cli.md describes it).

An object in a DIR argument (a committed render: rendered/, a kpt package) that no
longer matches its aggapi.dev/rendered-digest, a hand edit, is an error, naming the
changed fields when --config lets verify render the config again. Files and stdin are
not checked by default: a deploy layer's build arrives there, and its patches, images
and labels over the render are legitimate. --edits error|warn|off sets it for every
input.

Exit status: 0 when no errors (warnings allowed), 1 on errors, 2 on bad usage, 3 when
there are no errors but, with --config, a render is due: the certificate is inside
renewBefore or a previous CA's overlap has ended (re-render and commit; a pull-request
check can pass on 3 and leave the renewal to a scheduled re-render).

Flags:
`

// verifyHeadroom is the heap beside the document being parsed: what the checks keep of
// the objects read, the runtime.
const verifyHeadroom = 64 << 20

// Verify runs `aggapi verify`.
func Verify(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Run(OS(), append([]string{"verify"}, args...), stdin, stdout, stderr)
}

// verifyAt runs `aggapi verify` at clock c.
func verifyAt(c clock.Clock, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// A run decodes up to --max-size of YAML and keeps a fraction: collect at the
	// runtime's default pace, not at the lazier one main sets for short renders.
	debug.SetGCPercent(100)
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	warnWithin := fs.Duration("warn-within", 720*time.Hour, "warn about certificates that expire within this duration")
	maxSize := byteSize(verify.DefaultMaxBytes)
	fs.Var(&maxSize, "max-size", "read at most `SIZE` of YAML over every file and stdin together (bytes, or with Ki, Mi, Gi)")
	var configs configFlag
	fs.Var(&configs, "config", "AggregatedAPI config `FILE or DIR` the manifests must be rendered from (repeatable)")
	output := fs.String("o", "text", "output `FORMAT`: text, or json for scripts")
	edits := fs.String("edits", "", "what an object changed after the render is: `error, warn or off` (default: error in directories, off in files and on stdin)")
	if code, done := parseFlags(fs, args, verifyUsage, stdout, stderr); done {
		return code
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "aggapi verify: -o %q: want text or json\n", *output)
		return 2
	}
	switch *edits {
	case "", "error", "warn", "off":
	default:
		fmt.Fprintf(stderr, "aggapi verify: --edits %q: want error, warn or off\n", *edits)
		return 2
	}
	// The soft memory limit follows the largest document parsed so far, so the heap stays
	// near what a parse needs rather than growing to twice it (README, Limits).
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	softLimit := int64(0)
	reserve := func(need int64) {
		if need += verifyHeadroom; need > softLimit {
			softLimit = need
			debug.SetMemoryLimit(need)
		}
	}
	expected, configNodes, err := loadConfigs(configs, int64(maxSize), reserve)
	if err != nil {
		fmt.Fprintf(stderr, "aggapi verify: %v\n", err)
		return 1
	}
	// The set keeps what the checks read as the reader decodes, one document at a time;
	// the stamps are read first, before the set prunes the object.
	set := verify.NewSet()
	stamps := verify.Stamps{KeepOwned: map[string]bool{}}
	for name := range configNodes {
		stamps.KeepOwned[name] = true
	}
	// What each argument held: configs only is a config given where a manifest belongs.
	var configsRead, objectsRead int
	r := &verify.Reader{MaxBytes: int64(maxSize), Reserve: reserve, Keep: func(n *yaml.RNode) *yaml.RNode {
		if n.GetKind() == config.Kind && n.GetApiVersion() == config.APIVersion {
			configsRead++
		} else {
			objectsRead++
		}
		return set.Add(stamps.Add(n))
	}}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	if note := unreadStdin(stdin, paths); note != "" {
		fmt.Fprintf(stderr, "aggapi verify: warning: %s\n", note)
	}
	for _, p := range paths {
		// A directory is a committed render (rendered/, a kpt package) and is checked for
		// edits; stdin or a file is as often a deploy layer's build, patched on purpose.
		stamps.CheckEdits = *edits == "error" || *edits == "warn" || *edits == "" && isDir(p)
		configsRead, objectsRead = 0, 0
		if _, err := r.Read(p, stdin); err != nil {
			fmt.Fprintf(stderr, "aggapi verify: %v\n", err)
			var tooLarge *verify.TooLargeError
			if errors.As(err, &tooLarge) {
				fmt.Fprintln(stderr, "aggapi verify: --max-size raises the limit")
			}
			return 1
		}
		if configsRead > 0 && objectsRead == 0 && p != "-" {
			// verify --config apis/*/render: the shell gives --config the first match only.
			fmt.Fprintf(stderr, "aggapi verify: %s holds %s configs and no rendered objects: a config goes after --config, one --config per file or directory (a shell glob after --config gives it only the first match)\n", p, config.Kind)
			return 2
		}
	}
	opt := verify.Options{Now: c.Now(), WarnWithin: *warnWithin, Timings: map[string]verify.Timing{}, DefaultTiming: defaultTiming()}
	for _, e := range expected {
		opt.Timings[e.Name] = e.Timing
	}
	report := set.Check(opt)
	report.Findings = append(report.Findings, stamps.Stale(expected)...)
	severity := verify.Error
	if *edits == "warn" {
		severity = verify.Warning
	}
	report.Findings = append(report.Findings, stamps.Edits(severity, editedFields(&stamps, configNodes, report.Schedules, c.Now()))...)
	verify.Sort(report.Findings)
	code := 0
	switch {
	case report.Errors() > 0:
		code = 1
	case len(expected) > 0 && report.RenewalDue():
		code = 3
	}
	if *output == "json" {
		if err := writeVerifyJSON(stdout, c, report, code); err != nil {
			fmt.Fprintf(stderr, "aggapi verify: %v\n", err)
			return 1
		}
		return code
	}
	for _, f := range report.Findings {
		fmt.Fprintln(stdout, f)
	}
	for _, s := range report.Schedules {
		for _, line := range s.Lines(c.Now()) {
			fmt.Fprintln(stdout, line)
		}
	}
	summary := fmt.Sprintf("checked %d APIService(s): %d error(s), %d warning(s)",
		report.APIServices, report.Errors(), len(report.Findings)-report.Errors())
	if code == 3 {
		summary += "; a render is due (renewal or overlap end): re-render and commit (exit 3)"
	}
	fmt.Fprintln(stdout, summary)
	return code
}

// unreadStdin says why stdin is not read when it holds input (a pipe, or a file that
// is not empty) and no argument is "-": a silently dropped pipe looks like a pass.
func unreadStdin(stdin io.Reader, paths []string) string {
	if slices.Contains(paths, "-") {
		return ""
	}
	f, ok := stdin.(*os.File)
	if !ok || f == nil {
		return ""
	}
	info, err := f.Stat()
	if err != nil {
		return ""
	}
	if info.Mode()&os.ModeNamedPipe != 0 || info.Mode().IsRegular() && info.Size() > 0 {
		return "stdin is not read when FILE or DIR arguments are given: add - to read it too"
	}
	return ""
}

func isDir(p string) bool {
	info, err := os.Stat(p)
	return p != "-" && err == nil && info.IsDir()
}

// defaultTiming is renewBefore and overlap as a config that leaves them out has them.
func defaultTiming() verify.Timing {
	var api config.AggregatedAPI
	api.Default()
	cert := api.Spec.Certificate
	return verify.Timing{RenewBefore: cert.RenewBeforeDuration(), Overlap: cert.OverlapDuration(), From: "default"}
}

// byteSize is a flag of bytes: a number, or one with Ki, Mi or Gi.
type byteSize int64

func (b *byteSize) String() string {
	for _, u := range []struct {
		suffix string
		shift  uint
	}{{"Gi", 30}, {"Mi", 20}, {"Ki", 10}} {
		if *b > 0 && *b%(1<<u.shift) == 0 {
			return strconv.FormatInt(int64(*b)>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(*b), 10)
}

func (b *byteSize) Set(s string) error {
	shift := uint(0)
	for suffix, sh := range map[string]uint{"Ki": 10, "Mi": 20, "Gi": 30} {
		if strings.HasSuffix(s, suffix) {
			s, shift = strings.TrimSuffix(s, suffix), sh
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || n > (1<<40)>>shift {
		return fmt.Errorf("want a size such as 64Mi or 1048576, up to 1Ti")
	}
	*b = byteSize(n << shift)
	return nil
}
