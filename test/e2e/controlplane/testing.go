package controlplane

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// StartForTest starts a control plane for a test and stops it in
// tb.Cleanup. The test is skipped (failed with $E2E_REQUIRE=1) if the
// binaries are missing and opts.Binaries is unset. If the test failed, the
// end of every process's log is printed and the logs are kept on disk.
func StartForTest(tb testing.TB, opts Options) *ControlPlane {
	tb.Helper()
	if opts.Binaries == (Binaries{}) {
		opts.Binaries = RequireBinaries(tb)
	}
	if opts.Logf == nil {
		opts.Logf = tb.Logf
	}
	cp, err := Start(tb.Context(), opts)
	if err != nil {
		tb.Fatalf("starting control plane: %v", err)
	}
	tb.Cleanup(func() {
		failed := tb.Failed()
		if failed {
			cp.opts.KeepDir = true
			var logs strings.Builder
			cp.DumpLogs(&logs, 60)
			tb.Logf("test failed; control-plane logs (complete files in %s):\n%s", cp.Dir, logs.String())
		}
		if err := cp.Stop(); err != nil {
			tb.Errorf("stopping control plane: %v", err)
		}
		if failed {
			// Logs are small; etcd's data is not and is of no use afterwards.
			os.RemoveAll(filepath.Join(cp.Dir, "etcd-data"))
		}
	})
	return cp
}
