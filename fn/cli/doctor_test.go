package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestDoctorRunsAggapiDoctor: `aggapi doctor ARGS` runs aggapi-doctor from $PATH
// (the test binary has none beside it) with the arguments, standard streams and exit
// status passed through.
func TestDoctorRunsAggapiDoctor(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses a shell script")
	}
	dir := t.TempDir()
	script := "#!/bin/sh\necho \"args: $*\"\necho \"stdin: $(cat)\"\necho oops >&2\nexit 3\n"
	if err := os.WriteFile(filepath.Join(dir, DoctorBinary), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	var stdout, stderr bytes.Buffer
	code := Main([]string{"doctor", "-f", "-", "--kubeconfig", "k"}, strings.NewReader("hello"), &stdout, &stderr)
	if code != 3 {
		t.Errorf("exit status %d, want 3 (stderr: %s)", code, &stderr)
	}
	if want := "args: -f - --kubeconfig k\nstdin: hello\n"; stdout.String() != want {
		t.Errorf("stdout %q, want %q", &stdout, want)
	}
	if stderr.String() != "oops\n" {
		t.Errorf("stderr %q", &stderr)
	}
}

func TestDoctorMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var stdout, stderr bytes.Buffer
	code := Main([]string{"doctor"}, strings.NewReader(""), &stdout, &stderr)
	if code != doctorNotFound {
		t.Errorf("exit status %d, want %d", code, doctorNotFound)
	}
	for _, want := range []string{"aggapi doctor: aggapi-doctor not found at ", "or on $PATH", "go build -o bin/aggapi-doctor ./fn/cmd/aggapi-doctor"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q: %s", want, &stderr)
		}
	}
}
