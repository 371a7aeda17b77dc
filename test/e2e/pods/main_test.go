//go:build e2e

package pods

import (
	"testing"

	"github.com/aggapi/aggapi/test/e2e/node"
)

// TestMain runs the tests in the node's own PID, mount and network namespaces.
func TestMain(m *testing.M) { node.Main(m) }
