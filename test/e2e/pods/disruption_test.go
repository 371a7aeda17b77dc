//go:build e2e

package pods

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aggapi/aggapi/test/e2e/controlplane"
)

// TestPodDisruptionBudgetKeepsAPIAvailable renders replicas: 2 (which adds the
// PodDisruptionBudget) with the aggregator routing to the pods' endpoints
// (--enable-aggregator-routing=true, no kube-proxy on the path): every
// APIService Available, both pods Ready, the budget allows one disruption, an
// eviction of one pod is granted and of the other refused, and no request is
// lost while the evicted pod is replaced.
func TestPodDisruptionBudgetKeepsAPIAvailable(t *testing.T) {
	c := startCluster(t, true)
	c.importImage(t, sampleImage, "sample-apiserver")
	render := renderWardle(t, [2]string{"replicas: 1", "replicas: 2"})
	c.apply(t, render)
	c.rollout(t, wardleNamespace, wardleDeployment, wardleSelector)
	names := apiServiceNames(t, render)
	c.waitAvailable(t, names)

	pods := c.pods(t, wardleNamespace, wardleSelector)
	if len(pods) != 2 || !pods[0].ready() || !pods[1].ready() {
		t.Fatalf("want 2 Ready pods, have %d", len(pods))
	}
	pdbPath := fmt.Sprintf("/apis/policy/v1/namespaces/%s/poddisruptionbudgets/%s", wardleNamespace, wardleDeployment)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var allowed int
	err := controlplane.Poll(ctx, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		var pdb struct {
			Status struct {
				DisruptionsAllowed int `json:"disruptionsAllowed"`
				CurrentHealthy     int `json:"currentHealthy"`
			} `json:"status"`
		}
		if err := c.admin.Get(ctx, pdbPath, &pdb); err != nil {
			return false, err
		}
		allowed = pdb.Status.DisruptionsAllowed
		return pdb.Status.CurrentHealthy == 2 && allowed == 1, nil
	})
	if err != nil {
		t.Fatalf("PodDisruptionBudget %s: disruptionsAllowed %d, want 1 with both pods healthy: %v", wardleDeployment, allowed, err)
	}

	l := c.startLoad(t)
	l.waitSent(20)
	if err := c.evict(t, pods[0].Metadata.Name); err != nil {
		t.Fatalf("evicting %s with one disruption allowed: %v", pods[0].Metadata.Name, err)
	}
	// The budget is spent until the replacement is Ready.
	if err := c.evict(t, pods[1].Metadata.Name); !controlplane.IsStatus(err, 429) {
		t.Fatalf("evicting the second pod right after the first: %v, want 429 Too Many Requests (the budget)", err)
	}
	c.rollout(t, wardleNamespace, wardleDeployment, wardleSelector)
	c.waitAvailable(t, names)
	l.waitSent(40)
	sent, failed, errs := l.stop()
	t.Logf("eviction of one of two pods: %d of %d requests failed", failed, sent)
	if failed > 0 {
		t.Errorf("%d of %d requests through the aggregator failed while one of two pods was evicted: %s", failed, sent, strings.Join(errs, "; "))
	}
}

// evict asks the Eviction API to evict a wardle pod.
func (c *cluster) evict(t *testing.T, name string) error {
	t.Helper()
	body := map[string]any{
		"apiVersion": "policy/v1",
		"kind":       "Eviction",
		"metadata":   map[string]any{"name": name, "namespace": wardleNamespace},
	}
	return c.admin.Create(t.Context(), fmt.Sprintf("/api/v1/namespaces/%s/pods/%s/eviction", wardleNamespace, name), body, nil)
}
