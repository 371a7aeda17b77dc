//go:build e2e

package pods

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aggapi/aggapi/test/e2e/controlplane"
)

const (
	// The image examples/custom-metrics-adapter names (a placeholder registry: the test
	// adapter has no published image), imported from the e2e's binary.
	adapterImage     = "registry.example.com/k8s-test-metrics-adapter-amd64:latest"
	adapterNamespace = "custom-metrics"
	adapterSelector  = "app=custom-metrics-apiserver"
	// The adapter's --cert-dir: an emptyDir of the example's podTemplate, the
	// one directory it may write besides the rendered /tmp.
	adapterCertDir = "/var/run/serving-cert"
)

// TestCustomMetricsAdapterOnRealPods applies examples/custom-metrics-adapter's
// render as rendered and runs the custom-metrics test adapter in its pod: every
// APIService Available through kube-proxy's ClusterIP, discovery of both
// metrics groups answers, a custom metric written to the pod reads back
// through the aggregator, and the pod runs as rendered (uid 65532, read-only
// root, writable only in its emptyDirs).
func TestCustomMetricsAdapterOnRealPods(t *testing.T) {
	t0 := time.Now()
	c := startCluster(t, false)
	c.importImage(t, adapterImage, controlplane.CustomMetricsAdapterBinary)
	render := renderExample(t, "custom-metrics-adapter/kustomize", nil, nil, time.Time{})
	t1 := time.Now()
	c.apply(t, render)
	c.rollout(t, adapterNamespace, "custom-metrics-apiserver", adapterSelector)
	c.waitAvailable(t, apiServiceNames(t, render))
	t.Logf("every APIService Available %v after apply (%v since start)", time.Since(t1).Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))

	// Discovery of each rendered group version, through the aggregator. Its
	// proxy follows the Available condition a moment later (503 until then),
	// as waitProxied in test/e2e allows for.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for _, gv := range []string{"custom.metrics.k8s.io/v1beta2", "custom.metrics.k8s.io/v1beta1", "external.metrics.k8s.io/v1beta1"} {
		var out []byte
		if err := controlplane.Poll(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
			var err error
			out, err = c.cp.Kubectl(ctx, nil, "get", "--raw", "/apis/"+gv)
			return err == nil, err
		}); err != nil {
			t.Fatalf("kubectl get --raw /apis/%s: %v", gv, err)
		}
		if !bytes.Contains(out, []byte(`"kind":"APIResourceList"`)) || !bytes.Contains(out, []byte(`"groupVersion":"`+gv+`"`)) {
			t.Errorf("kubectl get --raw /apis/%s: %s, want its APIResourceList", gv, out)
		}
	}

	pods := c.pods(t, adapterNamespace, adapterSelector)
	if len(pods) != 1 || !pods[0].ready() {
		t.Fatalf("%d adapter pods (%+v), want 1 Ready", len(pods), pods)
	}
	checkAdapterMetrics(t, c, pods[0].Status.PodIP)
	checkAdapterSecurity(t, c, pods[0])
}

// checkAdapterMetrics writes a custom metric to the adapter's own endpoint in
// the pod and reads it, and the adapter's fixed external metric, back through
// the aggregator as TestCustomMetricsAdapterBehindRender does for the plain process.
func checkAdapterMetrics(t *testing.T, c *cluster, podIP string) {
	t.Helper()
	const (
		namespace = "e2e-metrics"
		pod       = "web-0"
		metric    = "requests-per-second"
	)
	write := func(ctx context.Context) error {
		return controlplane.WriteCustomMetric(ctx, podIP, namespace, pod, metric, "42")
	}
	customPath := fmt.Sprintf("/apis/custom.metrics.k8s.io/v1beta2/namespaces/%s/pods/%s/%s", namespace, pod, metric)
	var got struct {
		Kind  string `json:"kind"`
		Items []struct {
			DescribedObject struct {
				Name string `json:"name"`
			} `json:"describedObject"`
			Metric struct {
				Name string `json:"name"`
			} `json:"metric"`
			Value string `json:"value"`
		} `json:"items"`
	}
	// The adapter keeps written values in memory; its REST mapper comes from
	// discovery, which it loads in the background, so write until it reads back.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var readErr error
	if err := controlplane.Poll(ctx, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		if err := write(ctx); err != nil {
			return false, err
		}
		readErr = c.admin.Get(ctx, customPath, &got)
		return readErr == nil, nil
	}); err != nil {
		t.Fatalf("reading the custom metric written to the pod: %v (last read: %v)", err, readErr)
	}
	if got.Kind != "MetricValueList" || len(got.Items) != 1 || got.Items[0].Value != "42" ||
		got.Items[0].DescribedObject.Name != pod || got.Items[0].Metric.Name != metric {
		t.Errorf("GET %s: %+v, want one MetricValue 42 for pod %s", customPath, got, pod)
	}

	externalPath := fmt.Sprintf("/apis/external.metrics.k8s.io/v1beta1/namespaces/%s/my-external-metric?labelSelector=foo%%3Dbar", namespace)
	var external struct {
		Kind  string `json:"kind"`
		Items []struct {
			Value string `json:"value"`
		} `json:"items"`
	}
	if err := c.admin.Get(t.Context(), externalPath, &external); err != nil {
		t.Fatalf("reading an external metric: %v", err)
	}
	if external.Kind != "ExternalMetricValueList" || len(external.Items) != 1 || external.Items[0].Value != "42" {
		t.Errorf("GET %s: %+v, want one value 42", externalPath, external)
	}
	t.Logf("GET %s: %s = %s; external my-external-metric = %s", customPath, metric, got.Items[0].Value, external.Items[0].Value)
}

// checkAdapterSecurity reads the running container through the runtime: uid
// 65532, a read-only root, and its writable dirs the emptyDirs only.
func checkAdapterSecurity(t *testing.T, c *cluster, p pod) {
	t.Helper()
	proc, mounts := checkRestricted(t, c, p)
	for _, dir := range []string{adapterCertDir, "/tmp"} {
		if opts, ok := mounts[dir]; !ok || !slices.Contains(opts, "rw") {
			t.Errorf("%s: mount options %v (present %v), want a writable emptyDir", dir, opts, ok)
		}
	}
	args := readFile(t, filepath.Join(proc, "cmdline"))
	if !bytes.Contains(args, []byte("--cert-dir="+adapterCertDir+"\x00")) {
		t.Errorf("container args %q, want --cert-dir=%s", args, adapterCertDir)
	}
}
