//go:build e2e

package pods

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aggapi/aggapi/test/e2e/node"
)

// TestMetricsServerOnRealNode runs examples/metrics-server's render (metrics-server
// v0.8.0 in kube-system, its rendered RBAC and certificate) in a pod that scrapes
// the real kubelet on 10250: kubectl top node and kubectl top pod print numbers.
func TestMetricsServerOnRealNode(t *testing.T) {
	c := startCluster(t, false)
	c.importImage(t, metricsImage, "metrics-server")
	render := renderExample(t, "metrics-server/kustomize", nil, nil, time.Time{})
	c.apply(t, render)
	c.rollout(t, "kube-system", "metrics-server", "k8s-app=metrics-server")
	c.waitAvailable(t, apiServiceNames(t, render))

	// metrics-server needs two scrapes (--metric-resolution=15s) for a rate.
	usage := regexp.MustCompile(`\b\d+m\s+(\d+%\s+)?\d+Mi\b`)
	top := func(args ...string) string {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			out, err := c.cp.Kubectl(ctx, nil, append([]string{"top"}, args...)...)
			cancel()
			if err == nil && usage.Match(out) {
				return string(out)
			}
			if time.Now().After(deadline) {
				t.Fatalf("kubectl top %s gave no usage in 2m: %v\n%s", strings.Join(args, " "), err, out)
			}
			time.Sleep(2 * time.Second)
		}
	}
	nodes := top("node")
	if !strings.Contains(nodes, node.Name) {
		t.Fatalf("kubectl top node does not list %s:\n%s", node.Name, nodes)
	}
	pods := top("pod", "-n", "kube-system")
	if !strings.Contains(pods, "metrics-server-") {
		t.Fatalf("kubectl top pod -n kube-system does not list metrics-server:\n%s", pods)
	}
	t.Logf("kubectl top node:\n%s\nkubectl top pod -n kube-system:\n%s", nodes, pods)
}
