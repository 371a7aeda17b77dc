//go:build e2e

package pods

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aggapi/aggapi/internal/testutil"
	"github.com/aggapi/aggapi/test/e2e/controlplane"
	"github.com/aggapi/aggapi/test/e2e/node"
	"sigs.k8s.io/kustomize/kyaml/kio"
)

const (
	// What examples/kustomize renders.
	wardleNamespace  = "wardle"
	wardleDeployment = "wardle-apiserver"
	wardleSecret     = "wardle-serving-cert"
	sampleImage      = "registry.k8s.io/e2e-test-images/sample-apiserver:1.29.2"
	metricsImage     = "registry.k8s.io/metrics-server/metrics-server:v0.8.0"
	execPathInConfig = "path: ../../bin/aggapi"
	// The example's etcd is a sidecar's localhost; on this node the control
	// plane's etcd is reached on the node's address.
	exampleEtcd = "--etcd-servers=http://localhost:2379"
)

// cluster is a control plane with one node joined.
type cluster struct {
	cp    *controlplane.ControlPlane
	node  *node.Node
	admin *controlplane.Client
}

// startCluster starts a control plane (aggregator routing on or off) and a node.
func startCluster(t *testing.T, aggregatorRouting bool) *cluster {
	t.Helper()
	node.Require(t)
	opts := node.ControlPlaneOptions(controlplane.Options{
		Binaries:                 controlplane.RequireBinaries(t),
		DisableAggregatorRouting: !aggregatorRouting,
		// kube-apiserver takes over 15 s to exit on SIGTERM; nothing here needs
		// a graceful exit.
		StopGrace: time.Second,
		Logf:      t.Logf,
	})
	t0 := time.Now()
	cp, err := controlplane.Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("starting the control plane: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			var logs strings.Builder
			cp.DumpLogs(&logs, 40)
			t.Logf("control-plane logs:\n%s", logs.String())
		}
		// A SIGKILL after the short grace is expected, not a failure.
		if err := cp.Stop(); err != nil {
			t.Logf("stopping the control plane: %v", err)
		}
	})
	t.Logf("control plane up in %v", time.Since(t0).Round(time.Millisecond))
	n := node.Start(t, cp)
	admin, err := cp.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	// Registered after the node's clean-up, so it runs first, on a live cluster.
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 30*time.Second)
		defer cancel()
		for _, args := range [][]string{
			{"get", "nodes,pods,deployments,replicasets,endpointslices,apiservices", "-A", "-o", "wide"},
			{"get", "events", "-A", "--sort-by=.lastTimestamp"},
		} {
			out, err := cp.Kubectl(ctx, nil, args...)
			t.Logf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	return &cluster{cp: cp, node: n, admin: admin}
}

// importImage puts an image of one of the e2e's binaries on the node, named as
// the example's config names it.
func (c *cluster) importImage(t *testing.T, ref, binaryName string) {
	t.Helper()
	bin, err := controlplane.FindBinary(binaryName)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if err := c.node.ImportBinaryImage(t.Context(), ref, bin); err != nil {
		t.Fatal(err)
	}
	t.Logf("image %s imported in %v", ref, time.Since(t0).Round(time.Millisecond))
}

func (c *cluster) kubectl(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	var in *bytes.Reader
	if stdin != nil {
		in = bytes.NewReader(stdin)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	var out []byte
	var err error
	if in != nil {
		out, err = c.cp.Kubectl(ctx, in, args...)
	} else {
		out, err = c.cp.Kubectl(ctx, nil, args...)
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func (c *cluster) apply(t *testing.T, manifests []byte) {
	t.Helper()
	c.kubectl(t, manifests, "apply", "-f", "-")
}

// rollout waits until the Deployment's rollout is complete and no pod of it is
// left terminating.
func (c *cluster) rollout(t *testing.T, namespace, name, selector string) {
	t.Helper()
	c.kubectl(t, nil, "-n", namespace, "rollout", "status", "deployment/"+name, "--timeout=150s")
	deadline := time.Now().Add(90 * time.Second)
	for {
		pods := c.pods(t, namespace, selector)
		want := c.replicas(t, namespace, name)
		if len(pods) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pods of %s/%s, want %d, 90s after its rollout", len(pods), namespace, name, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (c *cluster) replicas(t *testing.T, namespace, name string) int {
	t.Helper()
	var d struct {
		Spec struct {
			Replicas int `json:"replicas"`
		} `json:"spec"`
	}
	if err := c.admin.Get(t.Context(), fmt.Sprintf("/apis/apps/v1/namespaces/%s/deployments/%s", namespace, name), &d); err != nil {
		t.Fatal(err)
	}
	return d.Spec.Replicas
}

// pod is what the tests read of a Pod.
type pod struct {
	Metadata struct {
		Name              string  `json:"name"`
		DeletionTimestamp *string `json:"deletionTimestamp"`
	} `json:"metadata"`
	Spec struct {
		TerminationGracePeriodSeconds int `json:"terminationGracePeriodSeconds"`
		Containers                    []struct {
			Name           string   `json:"name"`
			Args           []string `json:"args"`
			ReadinessProbe *struct {
				HTTPGet *struct {
					Scheme string `json:"scheme"`
				} `json:"httpGet"`
			} `json:"readinessProbe"`
			Lifecycle *struct {
				PreStop *struct {
					Sleep *struct {
						Seconds int `json:"seconds"`
					} `json:"sleep"`
				} `json:"preStop"`
			} `json:"lifecycle"`
			VolumeMounts []struct {
				Name      string `json:"name"`
				MountPath string `json:"mountPath"`
			} `json:"volumeMounts"`
		} `json:"containers"`
	} `json:"spec"`
	Status struct {
		Phase      string `json:"phase"`
		PodIP      string `json:"podIP"`
		Conditions []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"conditions"`
		ContainerStatuses []struct {
			Name        string `json:"name"`
			ContainerID string `json:"containerID"`
			Ready       bool   `json:"ready"`
		} `json:"containerStatuses"`
	} `json:"status"`
}

func (p pod) ready() bool {
	for _, c := range p.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

func (c *cluster) pods(t *testing.T, namespace, selector string) []pod {
	t.Helper()
	var list struct {
		Items []pod `json:"items"`
	}
	path := fmt.Sprintf("/api/v1/namespaces/%s/pods?labelSelector=%s", namespace, selector)
	if err := c.admin.Get(t.Context(), path, &list); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// waitAvailable waits until every named APIService is Available.
func (c *cluster) waitAvailable(t *testing.T, names []string) {
	t.Helper()
	for _, name := range names {
		if err := c.cp.WaitAPIServiceAvailable(t.Context(), name, 90*time.Second); err != nil {
			t.Fatal(err)
		}
	}
}

// renderExample renders examples/<example> with kustomize after replacing
// each edit's old text (once) in its aggapi.yaml; previous, if set, becomes
// its rendered.yaml (the transformer form's input); now, if set, is the
// function's clock (AGGAPI_NOW).
func renderExample(t *testing.T, example string, edits [][2]string, previous []byte, now time.Time) []byte {
	t.Helper()
	kustomize := testutil.Kustomize(t)
	aggapi := testutil.Aggapi(t)
	dir := testutil.CopyExample(t, example)
	cfgPath := filepath.Join(dir, "aggapi.yaml")
	if _, err := os.Stat(cfgPath); err != nil {
		// examples/metrics-server/kustomize and the like
		t.Fatalf("no aggapi.yaml in %s: %v", dir, err)
	}
	cfg := string(testutil.ReadFile(t, cfgPath))
	for _, e := range append([][2]string{{execPathRelative(cfg), "path: " + aggapi}}, edits...) {
		if n := strings.Count(cfg, e[0]); n != 1 {
			t.Fatalf("examples/%s/aggapi.yaml holds %q %d times, want once", example, e[0], n)
		}
		cfg = strings.Replace(cfg, e[0], e[1], 1)
	}
	testutil.WriteFile(t, cfgPath, []byte(cfg))
	if previous != nil {
		testutil.WriteFile(t, filepath.Join(dir, "rendered.yaml"), previous)
	}
	cmd := testutil.Cmd{Dir: dir}
	if !now.IsZero() {
		cmd.Env = append(os.Environ(), "AGGAPI_NOW="+now.UTC().Format(time.RFC3339))
	}
	res := cmd.Run(t, kustomize, "build", "--enable-alpha-plugins", "--enable-exec", ".")
	if res.Err != nil {
		t.Fatalf("kustomize build of examples/%s: %v\n%s", example, res.Err, res.Stderr)
	}
	return res.Stdout
}

// execPathRelative is the config's exec path line (it differs by depth).
func execPathRelative(cfg string) string {
	for line := range strings.Lines(cfg) {
		if s := strings.TrimSpace(line); strings.HasPrefix(s, "path: ") && strings.Contains(s, "bin/aggapi") {
			return s
		}
	}
	return execPathInConfig
}

// objects splits a render into its objects as JSON.
func objects(t *testing.T, yamlDocs []byte) []map[string]any {
	t.Helper()
	nodes, err := kio.FromBytes(yamlDocs)
	if err != nil {
		t.Fatalf("parsing a render: %v", err)
	}
	var out []map[string]any
	for _, n := range nodes {
		j, err := n.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(j, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// apiServiceNames lists the render's APIServices.
func apiServiceNames(t *testing.T, render []byte) []string {
	t.Helper()
	var names []string
	for _, o := range objects(t, render) {
		if o["kind"] == "APIService" {
			names = append(names, o["metadata"].(map[string]any)["name"].(string))
		}
	}
	if len(names) == 0 {
		t.Fatal("the render holds no APIService")
	}
	return names
}
