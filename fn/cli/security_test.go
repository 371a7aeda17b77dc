package cli

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/pki"
	"github.com/aggapi/aggapi/internal/testutil"
)

// basicConfigPath is testdata/basic's config, the one the security tests change.
const basicConfigPath = "../../testdata/basic/config.yaml"

// TestCAKeyNeverLeaves records every key a render generates and checks that only the
// serving key reaches the output, in any encoding, and no key reaches a message.
func TestCAKeyNeverLeaves(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{"ECDSA-P256", "RSA-2048", "Ed25519"} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			var keys []crypto.Signer
			env := testEnv(goldenNow)
			env.Keys = func(alg pki.KeyAlgorithm) (crypto.Signer, error) {
				k, err := pki.GenerateKey(alg)
				keys = append(keys, k)
				return k, err
			}
			dir := t.TempDir()
			testutil.WriteFile(t, filepath.Join(dir, "config.yaml"), testutil.ReadFile(t, basicConfigPath))
			testutil.ReplaceOnce(t, filepath.Join(dir, "config.yaml"), "keyAlgorithm: ECDSA-P256", "keyAlgorithm: "+alg)
			var stdout, errOut bytes.Buffer
			code := Run(env, nil, bytes.NewReader(goldenInput(t, dir)), &stdout, &errOut)
			out, stderr := stdout.Bytes(), errOut.String()
			if code != 0 || len(keys) != 2 {
				t.Fatalf("exit %d, %d keys generated (want a CA key and a serving key)", code, len(keys))
			}
			serving := servingCert(t, out)
			for _, k := range keys {
				der, err := x509.MarshalPKCS8PrivateKey(k)
				if err != nil {
					t.Fatal(err)
				}
				pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
				encodings := [][]byte{der, pemKey, []byte(base64.StdEncoding.EncodeToString(der)), []byte(base64.StdEncoding.EncodeToString(pemKey))}
				found := false
				for _, enc := range encodings {
					found = found || bytes.Contains(out, enc) || strings.Contains(stderr, string(enc))
				}
				isServing := pki.KeyMatchesCert(k, serving)
				if found && !isServing {
					t.Errorf("a key other than the serving key (the CA's) is in the output")
				}
				if !found && isServing {
					t.Errorf("the serving key is not in the Secret")
				}
			}
		})
	}
}

func servingCert(t *testing.T, rl []byte) *x509.Certificate {
	t.Helper()
	nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(rl), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if n.GetKind() == "Secret" {
			b, _ := base64.StdEncoding.DecodeString(n.GetDataMap()["tls.crt"])
			certs, err := pki.ParseCertsPEM(b)
			if err != nil {
				t.Fatal(err)
			}
			return certs[0]
		}
	}
	t.Fatal("no Secret in the output")
	return nil
}

// TestNoSecretBytesInErrors gives a private key where a CA belongs: the error names
// the problem and carries none of the key's bytes.
func TestNoSecretBytesInErrors(t *testing.T) {
	key, err := pki.GenerateKey(pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := pki.EncodePrivateKeyPEM(key)
	body := strings.Join(strings.Split(string(keyPEM), "\n")[1:3], "")
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("    mode: provided\n    provided:\n      secretName: tls\n      caBundle: |\n")
	for _, l := range strings.Split(strings.TrimSpace(string(keyPEM)), "\n") {
		b.WriteString("        " + l + "\n")
	}
	testutil.WriteFile(t, filepath.Join(dir, "config.yaml"), testutil.ReadFile(t, basicConfigPath))
	testutil.ReplaceOnce(t, filepath.Join(dir, "config.yaml"), "    keyAlgorithm: ECDSA-P256\n", b.String())
	out, stderr, code := runFunction(t, goldenInput(t, dir), goldenNow)
	if code != 1 || !strings.Contains(stderr, "not a CERTIFICATE") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	results := string(out[bytes.Index(out, []byte("results:")):])
	for _, chunk := range []string{body[:20], body[20:40], body[40:60]} {
		if strings.Contains(stderr, chunk) || strings.Contains(results, chunk) {
			t.Errorf("key bytes in an error message")
		}
	}
}

// servingContainer names the container of Deployment n (in golden output p) that mounts
// the serving-cert volume.
func servingContainer(t *testing.T, p string, n *yaml.RNode) string {
	t.Helper()
	containers, err := n.Pipe(yaml.Lookup("spec", "template", "spec", "containers"))
	if err != nil || containers == nil {
		t.Fatalf("%s: Deployment %s has no containers", p, n.GetName())
	}
	elements, _ := containers.Elements()
	for _, c := range elements {
		mounts, _ := c.Pipe(yaml.Lookup("volumeMounts"))
		if mounts == nil {
			continue
		}
		if m, _ := mounts.Pipe(yaml.Lookup("[name=serving-cert]")); m != nil {
			return yaml.GetValue(c.Field("name").Value)
		}
	}
	t.Fatalf("%s: no container of Deployment %s mounts serving-cert", p, n.GetName())
	return ""
}

// TestEmittedWorkloadsAreLockedDown checks every golden output: no TLS verification
// skipped, and every pod runs non-root with a read-only root and no escalation.
func TestEmittedWorkloadsAreLockedDown(t *testing.T) {
	paths, _ := filepath.Glob("../../testdata/*/expected.yaml")
	if len(paths) < 5 {
		t.Fatalf("only %d golden outputs", len(paths))
	}
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		if regexp.MustCompile(`(?i)insecureSkipTLSVerify`).Match(b) {
			t.Errorf("%s: insecureSkipTLSVerify", p)
		}
		nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(b), OmitReaderAnnotations: true}).Read()
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			if n.GetKind() != "Deployment" {
				continue
			}
			// The server container is the one mounting the serving certificate, whatever
			// spec.server.containerName calls it.
			server := "[name=" + servingContainer(t, p, n) + "]"
			want := map[string][]string{
				"true":           {"spec.template.spec.securityContext.runAsNonRoot", "spec.template.spec.containers." + server + ".securityContext.runAsNonRoot", "spec.template.spec.containers." + server + ".securityContext.readOnlyRootFilesystem"},
				"false":          {"spec.template.spec.containers." + server + ".securityContext.allowPrivilegeEscalation"},
				"RuntimeDefault": {"spec.template.spec.securityContext.seccompProfile.type"},
			}
			// 65532 unless the config's podTemplate chose another user; never root.
			uid, _ := n.Pipe(yaml.Lookup("spec", "template", "spec", "securityContext", "runAsUser"))
			cfg, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "config.yaml"))
			switch {
			case uid == nil || yaml.GetValue(uid) == "0":
				t.Errorf("%s: the pods may run as root", p)
			case !bytes.Contains(cfg, []byte("runAsUser:")) && yaml.GetValue(uid) != "65532":
				t.Errorf("%s: spec.template.spec.securityContext.runAsUser is not 65532", p)
			}
			for value, fields := range want {
				for _, f := range fields {
					v, _ := n.Pipe(yaml.Lookup(strings.Split(f, ".")...))
					if v == nil || yaml.GetValue(v) != value {
						t.Errorf("%s: %s is not %s", p, f, value)
					}
				}
			}
			caps, _ := n.Pipe(yaml.Lookup("spec", "template", "spec", "containers", server, "securityContext", "capabilities", "drop"))
			if caps == nil || !strings.Contains(caps.MustString(), "ALL") {
				t.Errorf("%s: capabilities are not all dropped", p)
			}
		}
	}
}

// TestImageRunsAsNonRoot: the container form of the function is distroless, UID 65532.
func TestImageRunsAsNonRoot(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	final := s[strings.LastIndex(s, "\nFROM "):]
	if !strings.Contains(final, "FROM gcr.io/distroless/static:nonroot") || !strings.Contains(final, "\nUSER 65532:65532\n") {
		t.Errorf("the final image stage is not distroless nonroot running as 65532:65532:\n%s", final)
	}
	if !strings.Contains(s, "CGO_ENABLED=0") {
		t.Errorf("the binary is not built static")
	}
}
