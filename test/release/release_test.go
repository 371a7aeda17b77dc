package release

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/internal/testutil"
)

// TestMakeRelease runs `make release` for this machine's platform, twice: the
// directory and archive hold both binaries and the docs, SHA256SUMS matches, the
// binary stamps the given version on what it renders, and the second run gives the
// same bytes. (The Makefile's default PLATFORMS are checked to be the four targets.)
func TestMakeRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both binaries: not in -short")
	}
	for _, tool := range []string{"make", "tar", "gzip", "sha256sum", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	root := testutil.Root(t)
	makefile := string(testutil.ReadFile(t, filepath.Join(root, "Makefile")))
	if m := regexp.MustCompile(`(?m)^PLATFORMS \?= (.*)$`).FindStringSubmatch(makefile); m == nil ||
		!slices.Equal(strings.Fields(m[1]), []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64"}) {
		t.Errorf("the Makefile's PLATFORMS are not linux and darwin on amd64 and arm64: %v", m)
	}

	const version = "v0.0.0-releasetest.1"
	platform := runtime.GOOS + "/" + runtime.GOARCH
	name := "aggapi_" + version + "_" + runtime.GOOS + "_" + runtime.GOARCH
	release := func(dist string) {
		t.Helper()
		cmd := exec.Command("make", "--no-print-directory", "release", "VERSION="+version, "PLATFORMS="+platform, "DIST="+dist)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make release: %v\n%s", err, out)
		}
	}
	dist := filepath.Join(t.TempDir(), "dist")
	release(dist)

	sums := map[string]string{}
	for line := range strings.Lines(string(testutil.ReadFile(t, filepath.Join(dist, "SHA256SUMS")))) {
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("SHA256SUMS line %q", line)
		}
		sums[f[1]] = f[0]
	}
	// The README links into docs/, so the archive carries it.
	wantFiles := []string{"aggapi", "aggapi-doctor", "LICENSE", "README.md", "CHANGELOG.md"}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs/*.md: %v", err)
	}
	for _, d := range docs {
		wantFiles = append(wantFiles, "docs/"+filepath.Base(d))
	}
	for _, f := range []string{name + ".tar.gz", name + "/aggapi", name + "/aggapi-doctor"} {
		sum := sha256.Sum256(testutil.ReadFile(t, filepath.Join(dist, f)))
		if got := sums[f]; got != hex.EncodeToString(sum[:]) {
			t.Errorf("SHA256SUMS has %q for %s, the file's is %x", got, f, sum)
		}
	}
	for _, f := range wantFiles {
		if _, err := os.Stat(filepath.Join(dist, name, f)); err != nil {
			t.Errorf("%s/%s: %v", name, f, err)
		}
	}
	if got := archiveFiles(t, filepath.Join(dist, name+".tar.gz")); !slices.Equal(got, sorted(prefixed(name+"/", wantFiles))) {
		t.Errorf("the archive holds %q", got)
	}

	// The version is linked in and stamped on what the binary renders.
	cfg := testutil.ResourceList("", testutil.MinimalConfig("wardle"))
	cmd := exec.Command(filepath.Join(dist, name, "aggapi"))
	cmd.Stdin = strings.NewReader(cfg)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the released aggapi: %v", err)
	}
	if !bytes.Contains(out, []byte("aggapi.dev/version: '"+version+"'")) && !bytes.Contains(out, []byte("aggapi.dev/version: "+version+"\n")) {
		t.Errorf("the released aggapi does not stamp %s:\n%s", version, out)
	}

	again := filepath.Join(t.TempDir(), "dist")
	release(again)
	if a, b := testutil.ReadFile(t, filepath.Join(dist, "SHA256SUMS")), testutil.ReadFile(t, filepath.Join(again, "SHA256SUMS")); !bytes.Equal(a, b) {
		t.Errorf("two releases of the same commit differ:\n%s\n%s", a, b)
	}
}

func archiveFiles(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(z)
	var files []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			files = append(files, h.Name)
		}
	}
	return sorted(files)
}

func prefixed(p string, names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, p+n)
	}
	return out
}

func sorted(s []string) []string { slices.Sort(s); return s }

// TestLicenseChangelogMetadata: the Apache-2.0 text in full, a changelog with an
// Unreleased section, and catalog metadata whose examples exist.
func TestLicenseChangelogMetadata(t *testing.T) {
	root := testutil.Root(t)
	license := string(testutil.ReadFile(t, filepath.Join(root, "LICENSE")))
	for _, want := range []string{"Apache License", "Version 2.0, January 2004", "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION", "9. Accepting Warranty or Additional Liability.", "END OF TERMS AND CONDITIONS"} {
		if !strings.Contains(license, want) {
			t.Errorf("LICENSE lacks %q", want)
		}
	}
	if changelog := string(testutil.ReadFile(t, filepath.Join(root, "CHANGELOG.md"))); !strings.Contains(changelog, "\n## [Unreleased]\n") {
		t.Errorf("CHANGELOG.md has no Unreleased section")
	}

	var meta struct {
		Image              string   `yaml:"image"`
		Description        string   `yaml:"description"`
		Tags               []string `yaml:"tags"`
		SourceURL          string   `yaml:"sourceURL"`
		ExamplePackageURLs []string `yaml:"examplePackageURLs"`
		License            string   `yaml:"license"`
	}
	if err := yaml.Unmarshal(testutil.ReadFile(t, filepath.Join(root, "metadata.yaml")), &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Image == "" || meta.Description == "" || len(meta.Tags) == 0 || meta.SourceURL == "" || meta.License != "Apache-2.0" {
		t.Errorf("metadata.yaml is incomplete: %+v", meta)
	}
	const tree = "https://github.com/aggapi/aggapi/tree/main/"
	for _, u := range meta.ExamplePackageURLs {
		rel, ok := strings.CutPrefix(u, tree)
		if !ok {
			t.Errorf("example %s is not under %s", u, tree)
			continue
		}
		if st, err := os.Stat(filepath.Join(root, rel)); err != nil || !st.IsDir() {
			t.Errorf("example %s: no directory %s", u, rel)
		}
	}
}
