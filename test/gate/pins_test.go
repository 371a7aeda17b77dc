package gate

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/aggapi/aggapi/internal/testutil"
)

// TestCertManagerPinOnce: the oracle test reads cert-manager's CRDs from the module
// cache only, so the version hack/e2e/install.sh downloads must be the one the test
// asks for; a bump of one without the other would skip or fail the oracle.
func TestCertManagerPinOnce(t *testing.T) {
	root := testutil.Root(t)
	find := func(file, pattern string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(pattern).FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s: no match for %s", file, pattern)
		}
		return string(m[1])
	}
	install := find("hack/e2e/install.sh", `(?m)^CERT_MANAGER_VERSION=(v\S+)`)
	test := find("test/e2e/oracle_test.go", `certManagerVersion\s*=\s*"(v[^"]+)"`)
	if install != test {
		t.Errorf("hack/e2e/install.sh downloads cert-manager %s, test/e2e/oracle_test.go asks for %s", install, test)
	}
}
