package pipeline

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aggapi/aggapi/internal/testutil"
)

// skipMarker is the one form a block that cannot run takes: why, and the tests that
// cover what it shows instead.
var (
	skipMarker = regexp.MustCompile(`^skip: (.+)$`)
	testName   = regexp.MustCompile(`\b(?:Test|Fuzz|Benchmark)[A-Z0-9_]\w*`)
)

// TestDocsCommands claims every code block of the docs (README.md, CONTRIBUTING.md,
// docs/*.md): shell blocks are run, one file's blocks in order, from the root of a
// scratch copy of the tree as a reader's clone would be after `make build tools`
// (bin/aggapi and the pinned bin/kustomize; bin/ not on PATH, the Go bin directory
// on it); config snippets are fn/manifests' TestDocsConfigSnippets; output is fenced
// as text. A block that cannot run there (a cluster, a release, make test itself)
// carries `<!-- run: skip: why; TestX covers it -->` and TestX must exist. Any other
// block fails: no test would notice it going stale.
func TestDocsCommands(t *testing.T) {
	blocks := testutil.DocBlocks(t, repoRoot)
	tests := testutil.TestNames(t, repoRoot)
	if !tests["TestDocsConfigSnippets"] {
		t.Fatal("no TestDocsConfigSnippets: nothing runs the docs' config snippets")
	}
	run := map[string][]testutil.DocBlock{}
	var files []string
	for _, b := range blocks {
		if b.Marker != "" {
			m := skipMarker.FindStringSubmatch(b.Marker)
			if m == nil || b.Lang != "sh" {
				t.Errorf("%s: <!-- run: %s -->: only a sh block can be skipped, as `<!-- run: skip: <why>; <TestName> covers it -->`", b, b.Marker)
				continue
			}
			names := testName.FindAllString(m[1], -1)
			if len(names) == 0 {
				t.Errorf("%s: the skip names no test that covers the block: %q", b, m[1])
			}
			for _, n := range names {
				if !tests[n] {
					t.Errorf("%s: the skip names %s, which no _test.go file defines", b, n)
				}
			}
			continue
		}
		switch {
		case b.Lang == "text", b.IsConfigSnippet():
		case b.Lang == "sh":
			if !slices.Contains(files, b.File) {
				files = append(files, b.File)
			}
			run[b.File] = append(run[b.File], b)
		default:
			t.Errorf("%s: no test runs this block: fence output as text, or mark it <!-- run: skip: <why>; <TestName> covers it -->", b)
		}
	}
	if !slices.Contains(files, "README.md") || len(run["README.md"]) < 2 {
		t.Errorf("the README has %d runnable command blocks; its install and quickstart must run", len(run["README.md"]))
	}
	if t.Failed() {
		return
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			root, env := docsRoot(t)
			for _, b := range run[file] {
				if strings.Contains(b.Body, "kpt ") {
					if _, err := exec.LookPath("kpt"); err != nil {
						t.Logf("%s: skipped: kpt is not installed (it is not pinned)", b)
						continue
					}
				}
				cmd := testutil.Cmd{Dir: root, Env: env, Timeout: 10 * time.Minute}
				if r := cmd.Run(t, "bash", "-euo", "pipefail", "-c", b.Body); r.Err != nil {
					t.Fatalf("%s failed: %v\n%s\n%s", b, r.Err, b.Body, r.Output())
				}
			}
		})
	}
}

// docsRoot lays out a scratch copy of the tree with bin/aggapi and bin/kustomize as
// `make build tools` leaves them, and returns it with the environment the blocks run
// in: the repository's bin/ off PATH (make puts it there), a Go bin directory
// (GOBIN) on it, and -trimpath so go install reuses the other tests' build cache.
func docsRoot(t *testing.T) (string, []string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "aggapi")
	testutil.CopyWorkingTree(t, repoRoot, root)
	bin := filepath.Join(root, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// A copy, not a link: `make build` in a block writes bin/aggapi.
	b, err := os.ReadFile(aggapiBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "aggapi"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(testutil.Kustomize(t), filepath.Join(bin, "kustomize")); err != nil {
		t.Fatal(err)
	}
	gobin := filepath.Join(t.TempDir(), "gobin")
	path := []string{gobin}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if filepath.Clean(dir) != filepath.Join(repoRoot, "bin") {
			path = append(path, dir)
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "PATH" && k != "GOBIN" && k != "GOFLAGS" {
			env = append(env, kv)
		}
	}
	env = append(env, "PATH="+strings.Join(path, string(filepath.ListSeparator)), "GOBIN="+gobin,
		"GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -trimpath"))
	return root, env
}

var (
	mdLink     = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeading  = regexp.MustCompile(`(?m)^#{1,6} (.+)$`)
	slugDelete = regexp.MustCompile(`[^\p{L}\p{N}\- _]`)
)

// TestDocsLinks: every relative link of the docs names a file or directory that
// exists, and every #anchor a heading of its page (GitHub's slugs).
func TestDocsLinks(t *testing.T) {
	t.Parallel()
	anchors := func(file string) map[string]bool {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil
		}
		set := map[string]bool{}
		for _, m := range mdHeading.FindAllStringSubmatch(string(b), -1) {
			slug := strings.ReplaceAll(slugDelete.ReplaceAllString(strings.ToLower(strings.TrimSpace(m[1])), ""), " ", "-")
			set[slug] = true
		}
		return set
	}
	for _, file := range testutil.DocFiles(t, repoRoot) {
		text := string(testutil.ReadFile(t, filepath.Join(repoRoot, file)))
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			link := m[1]
			if strings.Contains(link, "://") || strings.HasPrefix(link, "mailto:") {
				continue
			}
			target, anchor, _ := strings.Cut(link, "#")
			path := filepath.Join(repoRoot, filepath.Dir(file), filepath.FromSlash(target))
			if target == "" {
				path = filepath.Join(repoRoot, file)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: link %s: %v", file, link, err)
				continue
			}
			if anchor != "" && !anchors(path)[anchor] {
				t.Errorf("%s: link %s: no heading with that anchor in %s", file, link, target)
			}
		}
	}
}

// TestContributingLayout: the layout table of CONTRIBUTING.md names paths that exist,
// and every Go package of the tree is under one of them.
func TestContributingLayout(t *testing.T) {
	t.Parallel()
	text := string(testutil.ReadFile(t, filepath.Join(repoRoot, "CONTRIBUTING.md")))
	start := strings.Index(text, "\n## Layout\n")
	if start < 0 {
		t.Fatal("CONTRIBUTING.md has no Layout section")
	}
	section := text[start+1:]
	if end := strings.Index(section[1:], "\n## "); end >= 0 {
		section = section[:end+1]
	}
	var listed []string
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || !strings.Contains(cells[1], "`") {
			continue
		}
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(cells[1], -1) {
			p := strings.TrimSuffix(m[1], "/")
			listed = append(listed, p)
			if _, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(p))); err != nil {
				t.Errorf("the layout lists %s: %v", p, err)
			}
		}
	}
	if len(listed) < 10 {
		t.Fatalf("the layout table lists %d paths", len(listed))
	}
	seen := map[string]bool{}
	err := filepath.WalkDir(repoRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && path != repoRoot && (name == "bin" || name == "dist" || name == "testdata" || strings.HasPrefix(name, ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(repoRoot, filepath.Dir(path))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if seen[rel] {
			return nil
		}
		seen[rel] = true
		if !slices.ContainsFunc(listed, func(p string) bool { return rel == p || strings.HasPrefix(rel, p+"/") }) {
			t.Errorf("package %s is in no row of CONTRIBUTING.md's layout table", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
