package controlplane

// Unit tests of the harness pieces that need no Kubernetes binaries.

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aggapi/aggapi/internal/testutil"
)

func TestPKI(t *testing.T) {
	ca, err := NewCA("test-ca")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.CertPEM)

	serving, err := ca.ServingCert("server", []string{"api.ns.svc"}, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(serving.CertPEM, serving.KeyPEM); err != nil {
		t.Fatalf("serving key pair unusable: %v", err)
	}
	for _, name := range []string{"api.ns.svc", "127.0.0.1"} {
		_, err := testutil.ParseCerts(t, "serving certificate", serving.CertPEM)[0].Verify(x509.VerifyOptions{
			DNSName: name, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		if err != nil {
			t.Errorf("serving certificate for %s: %v", name, err)
		}
	}

	client, err := ca.ClientCert("alice", "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	cert := testutil.ParseCerts(t, "client certificate", client.CertPEM)[0]
	if cert.Subject.CommonName != "alice" || len(cert.Subject.Organization) != 1 || cert.Subject.Organization[0] != "system:masters" {
		t.Errorf("client subject = %v", cert.Subject)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("client certificate must not be valid for server auth")
	}

	priv, pub, err := newServiceAccountKey()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(priv), "PRIVATE KEY") || !strings.Contains(string(pub), "PUBLIC KEY") {
		t.Errorf("unexpected service-account key PEM types")
	}
}

func TestWriteKubeconfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := WriteKubeconfig(path, "https://127.0.0.1:1", []byte("CA"), "bob", Credentials{Token: "tok"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		CurrentContext string `json:"current-context"`
		Clusters       []struct {
			Cluster struct {
				Server string `json:"server"`
				CA     string `json:"certificate-authority-data"`
			} `json:"cluster"`
		} `json:"clusters"`
		Users []struct {
			Name string            `json:"name"`
			User map[string]string `json:"user"`
		} `json:"users"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.CurrentContext != "e2e" || cfg.Clusters[0].Cluster.Server != "https://127.0.0.1:1" ||
		cfg.Clusters[0].Cluster.CA != "Q0E=" || cfg.Users[0].Name != "bob" || cfg.Users[0].User["token"] != "tok" {
		t.Errorf("unexpected kubeconfig:\n%s", data)
	}
}

func TestProcessStop(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()

	t.Run("SIGTERM", func(t *testing.T) {
		p, err := startProcess("sleeper", sh, []string{"-c", "echo started; exec sleep 60"}, dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Stop(5 * time.Second); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if exited, _ := p.Exited(); !exited {
			t.Fatal("process still running after Stop")
		}
		if tail := p.LogTail(5); !strings.Contains(tail, "started") {
			t.Errorf("log tail %q lacks the process output", tail)
		}
	})

	t.Run("SIGQUIT then SIGKILL after grace", func(t *testing.T) {
		// The shell ignores SIGTERM and SIGQUIT and waits on a child, so only
		// SIGKILL works.
		p, err := startProcess("stubborn", sh, []string{"-c", "trap '' TERM QUIT; echo trap-\"installed\"; while :; do sleep 1; done"}, dir)
		if err != nil {
			t.Fatal(err)
		}
		// Give the shell time to install the trap. (The log's first line is the
		// command line, hence the quotes splitting the marker there.)
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(p.LogTail(1), "trap-installed") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if p.SlowToStop() {
			t.Fatal("SlowToStop before Stop")
		}
		if err := p.Stop(300 * time.Millisecond); err != nil {
			t.Errorf("Stop = %v; a slow exit is reported by SlowToStop, not as an error", err)
		}
		if exited, _ := p.Exited(); !exited {
			t.Fatal("process still running after Stop")
		}
		if !p.SlowToStop() {
			t.Error("SlowToStop = false for a process that ignored SIGTERM")
		}
		if r := p.StopReport(); !strings.Contains(r, "trap-installed") {
			t.Errorf("StopReport %q lacks what the process logged", r)
		}
	})

	t.Run("no grace: SIGKILL at once", func(t *testing.T) {
		p, err := startProcess("stubborn0", sh, []string{"-c", "trap '' TERM QUIT; while :; do sleep 1; done"}, dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Stop(0); err != nil {
			t.Errorf("Stop(0) = %v", err)
		}
		if p.SlowToStop() {
			t.Error("SlowToStop = true for Stop(0), which asks for no grace")
		}
	})
}

func TestFreePorts(t *testing.T) {
	ports, err := freePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	if ports[0] == ports[1] || ports[1] == ports[2] || ports[0] == ports[2] {
		t.Errorf("ports not distinct: %v", ports)
	}
}
