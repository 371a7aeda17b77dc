package testutil

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// WriteFile writes data to path (mode 0644), making its directory.
func WriteFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// ReadFile is the content of path; the test fails when it cannot be read.
func ReadFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// ReplaceOnce replaces old, which must occur exactly once in the file, by new.
func ReplaceOnce(tb testing.TB, path, old, new string) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if n := strings.Count(string(b), old); n != 1 {
		tb.Fatalf("%s: %q occurs %d times, want once", path, old, n)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// CopyDir copies the regular files and directories under src to dst; anything else
// (a symlink, a socket) fails the test.
func CopyDir(tb testing.TB, src, dst string) {
	tb.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch target := filepath.Join(dst, rel); {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case info.Mode().IsRegular():
			return copyFile(path, target, info.Mode().Perm())
		default:
			return fmt.Errorf("%s: not a regular file or directory", path)
		}
	})
	if err != nil {
		tb.Fatalf("copying %s to %s: %v", src, dst, err)
	}
}

func copyFile(src, dst string, perm fs.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, perm)
}

// TrackedFiles lists the files git tracks under dir (relative to dir, slash-separated),
// as they are in the working tree: what a clone holds, edits included, without what a
// render or a build left beside them. ok is false when dir is not in a git checkout
// (or git is missing).
func TrackedFiles(dir string) (files []string, ok bool) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--", ".")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return nil, false
	}
	for _, f := range bytes.Split(out, []byte{0}) {
		if len(f) > 0 {
			files = append(files, string(f))
		}
	}
	return files, true
}

// CopyTracked copies the files git tracks under src to dst (see TrackedFiles): the
// tests render copies of the examples, so files a docs command rendered into
// examples/ (`kpt fn render examples/kpt` works in place) change no test. Outside a
// git checkout it copies everything under src and says so in the log.
func CopyTracked(tb testing.TB, src, dst string) {
	tb.Helper()
	files, ok := TrackedFiles(src)
	if !ok {
		tb.Logf("%s is not in a git checkout: copying every file under it", src)
		CopyDir(tb, src, dst)
		return
	}
	if len(files) == 0 {
		tb.Fatalf("git tracks no file under %s", src)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		tb.Fatal(err)
	}
	copyFiles(tb, src, dst, files)
}

// copyFiles copies the regular files named (slash-separated, relative to src) to the
// same places under dst, keeping their permissions; a file deleted in the working
// tree but still in git's index is passed over.
func copyFiles(tb testing.TB, src, dst string, files []string) {
	tb.Helper()
	for _, f := range files {
		if f == "" {
			continue
		}
		from := filepath.Join(src, filepath.FromSlash(f))
		info, err := os.Lstat(from)
		if os.IsNotExist(err) {
			continue // deleted in the working tree, not yet in the index
		}
		if err != nil {
			tb.Fatal(err)
		}
		if !info.Mode().IsRegular() {
			tb.Fatalf("%s: not a regular file", from)
		}
		if err := copyFile(from, filepath.Join(dst, filepath.FromSlash(f)), info.Mode().Perm()); err != nil {
			tb.Fatal(err)
		}
	}
}

// CopyExample copies examples/<name>, as git tracks it, into a new temporary directory
// and returns the copy (named <name>, as kpt names a package by its directory).
func CopyExample(tb testing.TB, name string) string {
	tb.Helper()
	dst := filepath.Join(tb.TempDir(), name)
	CopyTracked(tb, filepath.Join(Root(tb), "examples", name), dst)
	return dst
}

// ParseCerts parses PEM that must hold only certificates, at least one; what names
// the data in a failure.
func ParseCerts(tb testing.TB, what string, data []byte) []*x509.Certificate {
	tb.Helper()
	var certs []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if len(bytes.TrimSpace(rest)) > 0 {
				tb.Fatalf("%s: data after the PEM blocks", what)
			}
			break
		}
		if block.Type != "CERTIFICATE" {
			tb.Fatalf("%s: PEM block %q, want CERTIFICATE", what, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			tb.Fatalf("%s: %v", what, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		tb.Fatalf("%s: no certificate", what)
	}
	return certs
}
