//go:build e2e

package pods

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aggapi/aggapi/test/e2e/controlplane"
	"github.com/aggapi/aggapi/test/e2e/node"
)

const (
	wardleSelector = "app.kubernetes.io/name=wardle,app.kubernetes.io/component=apiserver"
	servingCertDir = "/var/run/aggapi/serving-cert"
)

// renderWardle renders examples/kustomize (the generator form) for this node.
func renderWardle(t *testing.T, edits ...[2]string) []byte {
	t.Helper()
	return renderExample(t, "kustomize", append([][2]string{etcdEdit()}, edits...), nil, time.Time{})
}

// etcdEdit points the example's sample-apiserver at the control plane's etcd.
func etcdEdit() [2]string {
	return [2]string{exampleEtcd, "--etcd-servers=http://" + node.NodeIP.String() + ":" + strconv.Itoa(node.EtcdPort)}
}

// TestSampleAPIServerOnRealPods applies the rendered example as it is and runs
// its Deployment on the kubelet: every APIService Available through kube-proxy's
// ClusterIP (aggregator routing off; TestPodDisruptionBudgetKeepsAPIAvailable
// runs with it on), the wardle API served, and the pod running as rendered:
// user 65532, a read-only root, the Secret mounted where the args say, Ready by
// the HTTPS probe.
func TestSampleAPIServerOnRealPods(t *testing.T) {
	t0 := time.Now()
	c := startCluster(t, false)
	c.importImage(t, sampleImage, "sample-apiserver")
	render := renderWardle(t)
	t1 := time.Now()
	c.apply(t, render)
	c.rollout(t, wardleNamespace, wardleDeployment, wardleSelector)
	t.Logf("Deployment rolled out %v after apply", time.Since(t1).Round(time.Millisecond))
	c.waitAvailable(t, apiServiceNames(t, render))
	t.Logf("every APIService Available %v after apply (%v since start)", time.Since(t1).Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))

	// kubectl says "No resources found" on stderr; cp.Kubectl returns stdout.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, controlplane.RequireBinaries(t).Kubectl, "--kubeconfig="+c.cp.Kubeconfig, "get", "flunders", "-n", "default")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "No resources found in default namespace." {
		t.Fatalf("kubectl get flunders on an empty store: %v: %q, want \"No resources found in default namespace.\"", err, out)
	}
	c.kubectl(t, []byte(`apiVersion: wardle.example.com/v1alpha1
kind: Flunder
metadata:
  name: real-pod
  namespace: default
`), "apply", "-f", "-")
	if got := c.kubectl(t, nil, "get", "flunders", "-n", "default", "-o", "name"); strings.TrimSpace(got) != "flunder.wardle.example.com/real-pod" {
		t.Fatalf("kubectl get flunders after a write: %q, want flunder.wardle.example.com/real-pod", got)
	}
	checkRunningAsRendered(t, c, render)
}

// checkRunningAsRendered reads the running container through the runtime (its
// task's process): uid, read-only root, the Secret's mount and the args.
func checkRunningAsRendered(t *testing.T, c *cluster, render []byte) {
	t.Helper()
	pods := c.pods(t, wardleNamespace, wardleSelector)
	if len(pods) != 1 {
		t.Fatalf("%d wardle pods, want 1", len(pods))
	}
	p := pods[0]
	if !p.ready() {
		t.Fatalf("pod %s not Ready", p.Metadata.Name)
	}
	ctr := p.Spec.Containers[0]
	if ctr.ReadinessProbe == nil || ctr.ReadinessProbe.HTTPGet == nil || ctr.ReadinessProbe.HTTPGet.Scheme != "HTTPS" {
		t.Fatalf("pod %s is Ready without the rendered HTTPS readiness probe: %+v", p.Metadata.Name, ctr.ReadinessProbe)
	}
	proc, mounts := checkRestricted(t, c, p)
	if opts, ok := mounts[servingCertDir]; !ok || !slices.Contains(opts, "ro") {
		t.Errorf("the serving Secret at %s: mount options %v (present %v), want a read-only mount", servingCertDir, opts, ok)
	}
	args := strings.Split(strings.TrimRight(string(readFile(t, filepath.Join(proc, "cmdline"))), "\x00"), "\x00")
	certFile := ""
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--tls-cert-file="); ok {
			certFile = v
		}
	}
	if filepath.Dir(certFile) != servingCertDir {
		t.Fatalf("container args %q name the certificate %q, want one in %s", args, certFile, servingCertDir)
	}
	served := readFile(t, filepath.Join(proc, "root", certFile))
	if want := secretData(t, render, wardleSecret, "tls.crt"); !bytes.Equal(served, want) {
		t.Errorf("%s in the container differs from the rendered Secret's tls.crt", certFile)
	}
	t.Logf("container %s (%s): uid/gid 65532, root ro, Secret at %s, Ready by the HTTPS probe", p.Status.ContainerStatuses[0].ContainerID, proc, servingCertDir)
}

// checkRestricted finds the pod's first container's process through containerd and
// checks what the rendered security context promises of every server: uid and gid
// 65532 (real, effective, saved and filesystem) and a read-only root. It returns the
// process's /proc directory and its mounts' options by mount point.
func checkRestricted(t *testing.T, c *cluster, p pod) (proc string, mounts map[string][]string) {
	t.Helper()
	id := strings.TrimPrefix(p.Status.ContainerStatuses[0].ContainerID, "containerd://")
	proc = filepath.Join("/proc", strconv.Itoa(taskPID(t, c, id)))
	status := string(readFile(t, filepath.Join(proc, "status")))
	for _, key := range []string{"Uid:", "Gid:"} {
		if ids := fieldsAfter(status, key); len(ids) != 4 || slices.ContainsFunc(ids, func(s string) bool { return s != "65532" }) {
			t.Errorf("container process %s %v, want 65532 for real, effective, saved and filesystem ids", key, ids)
		}
	}
	mounts = mountOptions(t, filepath.Join(proc, "mountinfo"))
	if opts, ok := mounts["/"]; !ok || !slices.Contains(opts, "ro") {
		t.Errorf("container root mounted %v, want ro (readOnlyRootFilesystem)", opts)
	}
	return proc, mounts
}

// taskPID is the container's process id, from containerd's task list.
func taskPID(t *testing.T, c *cluster, id string) int {
	t.Helper()
	out, err := c.node.Ctr(t.Context(), "tasks", "ls")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == id && f[2] == "RUNNING" {
			pid, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
	}
	t.Fatalf("no running task %s in ctr tasks ls:\n%s", id, out)
	return 0
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fieldsAfter(text, key string) []string {
	for line := range strings.Lines(text) {
		if rest, ok := strings.CutPrefix(line, key); ok {
			return strings.Fields(rest)
		}
	}
	return nil
}

// mountOptions maps each mount point of a mountinfo file to its per-mount options.
func mountOptions(t *testing.T, path string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for line := range strings.Lines(string(readFile(t, path))) {
		f := strings.Fields(line)
		if len(f) > 5 {
			out[f[4]] = strings.Split(f[5], ",")
		}
	}
	return out
}

// secretData is one key of a rendered Secret, decoded.
func secretData(t *testing.T, render []byte, name, key string) []byte {
	t.Helper()
	for _, o := range objects(t, render) {
		md, _ := o["metadata"].(map[string]any)
		if o["kind"] != "Secret" || md["name"] != name {
			continue
		}
		data, _ := o["data"].(map[string]any)
		s, _ := data[key].(string)
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) == 0 {
			t.Fatalf("Secret %s has no %s: %v", name, key, err)
		}
		return b
	}
	t.Fatalf("no Secret %s in the render", name)
	return nil
}
