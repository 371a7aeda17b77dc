package testutil

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// DocBlock is one fenced code block of the documentation.
type DocBlock struct {
	File   string // relative to the repository root, slash-separated
	Line   int    // of the opening fence, 1-based
	Lang   string // the word after the fence: sh, yaml, text, ...
	Body   string
	Marker string // what `<!-- run: ... -->` on the line above the fence says, or ""
}

func (b DocBlock) String() string {
	return b.File + ":" + strconv.Itoa(b.Line) + " (```" + b.Lang + ")"
}

// DocFiles lists the documentation whose code blocks the tests run: README.md,
// CONTRIBUTING.md and docs/*.md, relative to root.
func DocFiles(tb testing.TB, root string) []string {
	tb.Helper()
	files := []string{"README.md", "CONTRIBUTING.md"}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(docs) == 0 {
		tb.Fatalf("no docs/*.md under %s", root)
	}
	slices.Sort(docs)
	for _, d := range docs {
		files = append(files, "docs/"+filepath.Base(d))
	}
	return files
}

var configKind = regexp.MustCompile(`(?m)^kind: AggregatedAPI$`)

var runMarker = regexp.MustCompile(`^<!--\s*run:\s*(.*?)\s*-->$`)

// DocBlocks returns the fenced code blocks of the documentation (DocFiles), in order.
// A `<!-- run: ... -->` comment that is not on the line right above a fence, and a
// fence that is never closed, fail the test.
func DocBlocks(tb testing.TB, root string) []DocBlock {
	tb.Helper()
	var blocks []DocBlock
	for _, file := range DocFiles(tb, root) {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
		if err != nil {
			tb.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		for i := 0; i < len(lines); i++ {
			line := strings.TrimSpace(lines[i])
			if m := runMarker.FindStringSubmatch(line); m != nil {
				if i+1 >= len(lines) || !strings.HasPrefix(strings.TrimSpace(lines[i+1]), "```") {
					tb.Errorf("%s:%d: %q is not on the line right above a code block", file, i+1, line)
				}
				continue
			}
			if !strings.HasPrefix(line, "```") {
				continue
			}
			block := DocBlock{File: file, Line: i + 1, Lang: strings.TrimSpace(strings.TrimPrefix(line, "```"))}
			if i > 0 {
				if m := runMarker.FindStringSubmatch(strings.TrimSpace(lines[i-1])); m != nil {
					block.Marker = m[1]
				}
			}
			var body []string
			closed := false
			for i++; i < len(lines); i++ {
				if strings.TrimSpace(lines[i]) == "```" {
					closed = true
					break
				}
				body = append(body, lines[i])
			}
			if !closed {
				tb.Errorf("%s: the code block opened at line %d is never closed", file, block.Line)
				break
			}
			block.Body = strings.Join(body, "\n") + "\n"
			blocks = append(blocks, block)
		}
	}
	return blocks
}

// IsConfigSnippet says whether a block is an AggregatedAPI config, which
// fn/manifests' TestDocsConfigSnippets loads and builds.
func (b DocBlock) IsConfigSnippet() bool {
	return b.Lang == "yaml" && configKind.MatchString(b.Body)
}

// CopyWorkingTree copies what a build of the tree at src sees to dst: the files git
// tracks and those it would track (new, not ignored), as they are in the working tree;
// on a clean clone, the clone. bin/, .cache/ and dist/ are ignored, so are left out.
func CopyWorkingTree(tb testing.TB, src, dst string) {
	tb.Helper()
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = src
	out, err := cmd.Output()
	if err != nil {
		tb.Skipf("%s is not a git checkout (git ls-files: %v): no tree to copy", src, err)
	}
	copyFiles(tb, src, dst, strings.Split(string(out), "\x00"))
}

var testFunc = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark)[A-Z0-9_]\w*)\(`)

// TestNames returns the names of the Test, Fuzz and Benchmark functions of every
// _test.go file under root (bin/ and .cache/ left out).
func TestNames(tb testing.TB, root string) map[string]bool {
	tb.Helper()
	names := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (d.Name() == "bin" || d.Name() == "dist" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range testFunc.FindAllStringSubmatch(string(b), -1) {
			names[m[1]] = true
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return names
}
