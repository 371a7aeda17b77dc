//go:build e2e

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aggapi/aggapi/fn/doctor"
	"github.com/aggapi/aggapi/internal/testutil"
)

// zooNetnsEnv marks the run of TestDoctorZooFirewall inside the network namespace
// it created; zooAggapiEnv passes the bin/aggapi built outside.
const (
	zooNetnsEnv  = "AGGAPI_ZOO_NETNS"
	zooAggapiEnv = "AGGAPI_ZOO_AGGAPI"
)

// TestDoctorZooFirewall blocks the server's port with a firewall rule and checks the
// doctor names control-plane-cannot-reach with the port to admit. The rule lives in a
// network namespace the test creates (unshare: a user and a network namespace, with
// its own loopback), and the whole control plane runs in it: the host's interfaces,
// routes and rules are not touched. Where unprivileged namespaces are not allowed the
// test skips (and fails with E2E_REQUIRE=1).
func TestDoctorZooFirewall(t *testing.T) {
	if os.Getenv(zooNetnsEnv) == "" {
		aggapi := testutil.AggapiWithDoctor(t)
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		if out, err := exec.CommandContext(t.Context(), "unshare", "-rn", "true").CombinedOutput(); err != nil {
			if os.Getenv("E2E_REQUIRE") == "1" {
				t.Fatalf("unshare -rn: %v\n%s", err, out)
			}
			t.Skipf("no unprivileged network namespace here (unshare -rn: %v %s)", err, out)
		}
		for _, tool := range []string{"ip", "nft"} {
			if _, err := exec.LookPath(tool); err != nil {
				t.Skipf("%s not found: the rule cannot be set", tool)
			}
		}
		cmd := exec.CommandContext(t.Context(), "unshare", "-rn", exe, "-test.run", "^TestDoctorZooFirewall$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), zooNetnsEnv+"=1", zooAggapiEnv+"="+aggapi)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err = cmd.Run()
		t.Logf("inside the test's network namespace:\n%s", out.String())
		if err != nil || !strings.Contains(out.String(), "--- PASS: TestDoctorZooFirewall") {
			t.Fatalf("the run inside the network namespace failed: %v", err)
		}
		return
	}

	// Inside: a fresh loopback, nothing else.
	zooRun(t, "ip", "link", "set", "lo", "up")
	z := startZooWith(t, zooOptions(), true)
	rule := fmt.Sprintf("table inet aggapi_zoo { chain input { type filter hook input priority 0; tcp dport %d drop; }; }", z.port)
	zooRun(t, "nft", rule)
	cond := z.waitAvailable(t, zooAlpha, "False")
	t.Logf("condition: %+v", cond)
	rep := z.doctor(t, 1, "-f", z.renderedFile, "--dial-timeout", "1s")
	f := zooWant(t, rep, "error", doctor.CauseControlPlaneCannotReach, "APIService "+zooAlpha, fmt.Sprintf("TCP %d", z.port))
	if !strings.Contains(f.AskProvider, fmt.Sprintf("admits the control plane to the nodes on TCP %d", z.port)) {
		t.Errorf("the question to the provider: %q", f.AskProvider)
	}
	// The doctor's own handshake times out too, and it says what it could not check.
	zooWant(t, rep, "note", doctor.CauseNotChecked, "APIService "+zooAlpha+": served certificate", "is not checked")
	// The fix: admit the port. The APIServices come back.
	zooRun(t, "nft", "delete table inet aggapi_zoo")
	z.repair(t)
	rep = z.doctor(t, 0, "-f", z.renderedFile)
	for _, f := range rep.Findings {
		if f.Severity != "note" {
			t.Errorf("a finding once the port is admitted: %+v", f)
		}
	}
}

func zooRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.CommandContext(t.Context(), name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
