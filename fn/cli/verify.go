package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/clock"
	"github.com/aggapi/aggapi/fn/verify"
)

const verifyUsage = `Usage: aggapi verify [--config FILE|DIR ...] [--warn-within DURATION] [--max-size SIZE] [FILE|DIR ...]

Checks rendered manifests offline, for every APIService: the Service it names and the
Deployment behind it exist, the serving certificate in the mounted Secret verifies
against the caBundle for <service>.<namespace>.svc and matches its key, its remaining
lifetime, the auth-delegator and auth-reader bindings of the pods' ServiceAccount, and
that no APIService skips TLS verification. Reads stdin without arguments (multi-document
YAML, a ResourceList or a List); a directory is read recursively (*.yaml, *.yml).
Only regular files are read (symlinks followed, not into directories), and at most
--max-size in all.

With --config (repeatable; a file or directory holding AggregatedAPI configs), it also
checks that the manifests were rendered from exactly these configs: every object a
config generates carries aggapi.dev/config-digest, the digest of the config after
defaulting, and a render that was skipped or not redone after a config change fails,
naming the objects. Run it in CI after rendering: render, verify --config, fail.

Exit status: 0 when no errors (warnings allowed), 1 on errors, 2 on bad usage.

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
	if code, done := parseFlags(fs, args, verifyUsage, stdout, stderr); done {
		return code
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
	expected, err := loadConfigs(configs, int64(maxSize), reserve)
	if err != nil {
		fmt.Fprintf(stderr, "aggapi verify: %v\n", err)
		return 1
	}
	// The set keeps what the checks read as the reader decodes, one document at a time;
	// the stamps are read first, before the set prunes the object.
	set := verify.NewSet()
	var stamps verify.Stamps
	r := &verify.Reader{MaxBytes: int64(maxSize), Reserve: reserve, Keep: func(n *yaml.RNode) *yaml.RNode { return set.Add(stamps.Add(n)) }}
	if _, err := readManifests(r, fs.Args(), stdin); err != nil {
		fmt.Fprintf(stderr, "aggapi verify: %v\n", err)
		var tooLarge *verify.TooLargeError
		if errors.As(err, &tooLarge) {
			fmt.Fprintln(stderr, "aggapi verify: --max-size raises the limit")
		}
		return 1
	}
	report := set.Check(verify.Options{Now: c.Now(), WarnWithin: *warnWithin})
	report.Findings = append(report.Findings, stamps.Stale(expected)...)
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

func readManifests(r *verify.Reader, paths []string, stdin io.Reader) ([]*yaml.RNode, error) {
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	var all []*yaml.RNode
	for _, p := range paths {
		nodes, err := r.Read(p, stdin)
		if err != nil {
			return nil, err
		}
		all = append(all, nodes...)
	}
	return all, nil
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
