package boundedfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aggapi/aggapi/internal/testutil"
)

// workdir is a working directory with one good file, and a directory outside it with a
// file that must never be read through it.
func workdir(t *testing.T) (dir, outside string) {
	t.Helper()
	base := t.TempDir()
	dir, outside = filepath.Join(base, "work"), filepath.Join(base, "outside")
	for _, d := range []string{dir, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WriteFile(t, filepath.Join(dir, "ok.pem"), []byte("inside"))
	testutil.WriteFile(t, filepath.Join(outside, "secret.pem"), []byte("outside"))
	return dir, outside
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func TestReadInRoot(t *testing.T) {
	dir, outside := workdir(t)
	symlink(t, "/dev/zero", filepath.Join(dir, "zero.pem"))
	symlink(t, "/dev/urandom", filepath.Join(dir, "urandom.pem"))
	symlink(t, filepath.Join(outside, "secret.pem"), filepath.Join(dir, "abs-out.pem"))
	symlink(t, "../outside/secret.pem", filepath.Join(dir, "rel-out.pem"))
	symlink(t, outside, filepath.Join(dir, "outdir"))
	symlink(t, "ok.pem", filepath.Join(dir, "alias.pem"))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.pem"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, filepath.Join(dir, "big.pem"), []byte(strings.Repeat("A", 101)))
	testutil.WriteFile(t, filepath.Join(dir, "edge.pem"), []byte(strings.Repeat("A", 100)))

	for name, want := range map[string]error{
		"zero.pem":          ErrOutsideRoot,
		"urandom.pem":       ErrOutsideRoot,
		"abs-out.pem":       ErrOutsideRoot,
		"rel-out.pem":       ErrOutsideRoot,
		"outdir/secret.pem": ErrOutsideRoot,
		"fifo.pem":          &NotRegularError{},
		"sub":               &NotRegularError{},
		"big.pem":           &TooLargeError{},
		"missing.pem":       os.ErrNotExist,
	} {
		t.Run(name, func(t *testing.T) {
			b, err := ReadInRoot(dir, name, 100) // a FIFO opened blocking would hang here until the test times out
			if b != nil || err == nil {
				t.Fatalf("read %d bytes, err %v", len(b), err)
			}
			switch w := want.(type) {
			case *NotRegularError:
				if !errors.As(err, &w) {
					t.Fatalf("err %v, want not a regular file", err)
				}
			case *TooLargeError:
				if !errors.As(err, &w) || w.Limit != 100 {
					t.Fatalf("err %v, want too large", err)
				}
			default:
				if !errors.Is(err, want) {
					t.Fatalf("err %v, want %v", err, want)
				}
			}
		})
	}
	for _, name := range []string{"ok.pem", "alias.pem", "./sub/../ok.pem"} {
		if b, err := ReadInRoot(dir, name, 100); err != nil || string(b) != "inside" {
			t.Errorf("%s: %q, %v", name, b, err)
		}
	}
	if b, err := ReadInRoot(dir, "edge.pem", 100); err != nil || len(b) != 100 {
		t.Errorf("a file of exactly the limit: %d bytes, %v", len(b), err)
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "zero.yaml")
	symlink(t, "/dev/zero", link)
	for _, p := range []string{"/dev/zero", "/dev/urandom", link, fifo, dir} {
		b, err := Read(p, 1<<20)
		var nr *NotRegularError
		if b != nil || !errors.As(err, &nr) {
			t.Errorf("%s: %d bytes, err %v; want not a regular file", p, len(b), err)
		}
	}
	testutil.WriteFile(t, filepath.Join(dir, "x.yaml"), []byte("abc"))
	if b, err := Read(filepath.Join(dir, "x.yaml"), 3); err != nil || string(b) != "abc" {
		t.Errorf("%q, %v", b, err)
	}
	if _, err := Read(filepath.Join(dir, "x.yaml"), 2); err == nil {
		t.Error("a file over the limit was read")
	}
}

func TestReadAtMost(t *testing.T) {
	if _, err := ReadAtMost(bytes.NewReader(make([]byte, 11)), 10); err == nil {
		t.Error("11 bytes read under a limit of 10")
	}
	if b, err := ReadAtMost(bytes.NewReader(make([]byte, 10)), 10); err != nil || len(b) != 10 {
		t.Errorf("%d, %v", len(b), err)
	}
}
