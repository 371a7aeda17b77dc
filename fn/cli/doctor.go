package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/aggapi/aggapi/fn/internal/redact"
)

// DoctorBinary is the program `aggapi doctor` runs. The live checks need client-go,
// whose package initialisation would cost the KRM function ~13 ms on every run, so
// they live in a binary of their own (fn/cmd/aggapi-doctor).
const DoctorBinary = "aggapi-doctor"

// doctorNotFound is the exit status when aggapi-doctor is missing (the shell's
// "command not found").
const doctorNotFound = 127

// Doctor runs `aggapi doctor ARGS`: aggapi-doctor from the directory of the running
// executable, else from $PATH, with the same arguments and standard streams, and
// returns its exit status.
func Doctor(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	messages := redact.NewWriter(stderr) // aggapi-doctor redacts its own
	path, err := findDoctor()
	if err != nil {
		fmt.Fprintf(messages, "aggapi doctor: %v\n", err)
		return doctorNotFound
	}
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exitErr):
		if code := exitErr.ExitCode(); code >= 0 {
			return code
		}
		fmt.Fprintf(messages, "aggapi doctor: %s: %v\n", path, err) // killed by a signal
		return 1
	default:
		fmt.Fprintf(messages, "aggapi doctor: running %s: %v\n", path, err)
		return 1
	}
}

func findDoctor() (string, error) {
	name := DoctorBinary
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	var beside string
	if self, err := os.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(self); err == nil {
			self = resolved
		}
		beside = filepath.Join(filepath.Dir(self), name)
		if info, err := os.Stat(beside); err == nil && !info.IsDir() && (runtime.GOOS == "windows" || info.Mode()&0o111 != 0) {
			return beside, nil
		}
	}
	if p, err := exec.LookPath(DoctorBinary); err == nil {
		return p, nil
	}
	where := "on $PATH"
	if beside != "" {
		where = "at " + beside + " or on $PATH"
	}
	return "", fmt.Errorf("%s not found %s: the live checks are a separate binary, to keep client-go out of the KRM function; "+
		"build it next to aggapi (go build -o bin/%s ./fn/cmd/aggapi-doctor)", DoctorBinary, where, DoctorBinary)
}
