package pipeline

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/internal/testutil"
)

// The examples of servers nobody here wrote: metrics-server and a custom/external
// metrics adapter. Each has a kustomize transformer form and a kpt package.

const serverExampleExecPath = "path: ../../../bin/aggapi"

var metricsServer = expectation{
	Owner:          "metrics-server",
	Group:          "metrics.k8s.io",
	Versions:       []string{"v1beta1"},
	Namespace:      "kube-system",
	ServiceName:    "metrics-server",
	ServicePort:    443,
	DNSName:        "metrics-server.kube-system.svc",
	SecretName:     "metrics-server-serving-cert",
	DeploymentName: "metrics-server",
	ServiceAccount: "metrics-server",
	// Upstream's names; no Namespace (the cluster owns kube-system), no edit role
	// (the metrics are read-only).
	Objects: []objID{
		{"v1", "ServiceAccount", "kube-system", "metrics-server"},
		{"v1", "Secret", "kube-system", "metrics-server-serving-cert"},
		{"rbac.authorization.k8s.io/v1", "ClusterRole", "", "system:metrics-server"},
		{"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "system:metrics-server"},
		{"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "metrics-server:system:auth-delegator"},
		{"rbac.authorization.k8s.io/v1", "RoleBinding", "kube-system", "metrics-server-auth-reader"},
		{"rbac.authorization.k8s.io/v1", "ClusterRole", "", "system:aggregated-metrics-reader"},
		{"v1", "Service", "kube-system", "metrics-server"},
		{"apps/v1", "Deployment", "kube-system", "metrics-server"},
		{"networking.k8s.io/v1", "NetworkPolicy", "kube-system", "metrics-server"},
		{"apiregistration.k8s.io/v1", "APIService", "", "v1beta1.metrics.k8s.io"},
	},
}

var customMetricsAdapter = expectation{
	Owner: "custom-metrics",
	GroupVersions: [][2]string{
		{"custom.metrics.k8s.io", "v1beta1"}, {"custom.metrics.k8s.io", "v1beta2"}, {"external.metrics.k8s.io", "v1beta1"},
	},
	Namespace:      "custom-metrics",
	ServiceName:    "custom-metrics-apiserver",
	ServicePort:    443,
	DNSName:        "custom-metrics-apiserver.custom-metrics.svc",
	SecretName:     "custom-metrics-serving-cert",
	DeploymentName: "custom-metrics-apiserver",
	ServiceAccount: "custom-metrics-apiserver",
	// One ServiceAccount, Secret, Service and Deployment for both groups; upstream's
	// names (the config is imported from its deploy YAML).
	Objects: []objID{
		{"v1", "Namespace", "", "custom-metrics"},
		{"v1", "ServiceAccount", "custom-metrics", "custom-metrics-apiserver"},
		{"v1", "Secret", "custom-metrics", "custom-metrics-serving-cert"},
		{"rbac.authorization.k8s.io/v1", "ClusterRole", "", "custom-metrics-resource-reader"},
		{"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "custom-metrics-resource-reader"},
		{"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "custom-metrics:system:auth-delegator"},
		{"rbac.authorization.k8s.io/v1", "RoleBinding", "kube-system", "custom-metrics-auth-reader"},
		{"rbac.authorization.k8s.io/v1", "ClusterRole", "", "custom-metrics-view"},
		{"v1", "Service", "custom-metrics", "custom-metrics-apiserver"},
		{"apps/v1", "Deployment", "custom-metrics", "custom-metrics-apiserver"},
		{"apiregistration.k8s.io/v1", "APIService", "", "v1beta1.custom.metrics.k8s.io"},
		{"apiregistration.k8s.io/v1", "APIService", "", "v1beta2.custom.metrics.k8s.io"},
		{"apiregistration.k8s.io/v1", "APIService", "", "v1beta1.external.metrics.k8s.io"},
	},
}

var serverExamples = []struct {
	name string
	want expectation
	// check looks at what is particular to the server.
	check func(t *testing.T, r *rendered)
}{
	{"metrics-server", metricsServer, checkMetricsServer},
	{"custom-metrics-adapter", customMetricsAdapter, checkCustomMetricsAdapter},
}

// TestServerExamplesKustomize builds each example's transformer form as committed
// (relative exec path), then in a copy over its own output: byte-identical.
func TestServerExamplesKustomize(t *testing.T) {
	t.Parallel()
	k := testutil.Kustomize(t)
	for _, ex := range serverExamples {
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel()
			committed := testutil.MustRun(t, repoRoot, nil, k, "build", "--enable-alpha-plugins", "--enable-exec", filepath.Join("examples", ex.name, "kustomize"))
			ex.check(t, checkRender(t, parseYAML(t, committed), ex.want))

			dir := testutil.CopyExample(t, filepath.Join(ex.name, "kustomize"))
			testutil.ReplaceOnce(t, filepath.Join(dir, "aggapi.yaml"), serverExampleExecPath, "path: "+aggapiBin)
			first := kustomizeBuild(t, k, dir)
			testutil.WriteFile(t, filepath.Join(dir, "rendered.yaml"), first)
			second := kustomizeBuild(t, k, dir)
			if !bytes.Equal(first, second) {
				t.Errorf("the re-render over the previous output differs: %s", firstDiff(string(first), string(second)))
			}
			verifyOutput(t, second)
		})
	}
}

// TestServerExamplesKpt renders each example's kpt package twice: the second render
// changes no byte.
func TestServerExamplesKpt(t *testing.T) {
	t.Parallel()
	k := testutil.Kpt(t)
	for _, ex := range serverExamples {
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel()
			pkg := testutil.CopyExample(t, filepath.Join(ex.name, "kpt"))
			testutil.ReplaceOnce(t, filepath.Join(pkg, "Kptfile"), kptExecPath, "exec: "+aggapiBin)
			before := snapshot(t, pkg)
			testutil.MustRun(t, filepath.Dir(pkg), nil, k, "fn", "render", pkg, "--allow-exec")
			first := snapshot(t, pkg)
			checkKptFiles(t, before, first)
			cluster, _ := splitLocalConfig(readTree(t, pkg))
			ex.check(t, checkRender(t, cluster, ex.want))

			testutil.MustRun(t, filepath.Dir(pkg), nil, k, "fn", "render", pkg, "--allow-exec")
			assertSameTree(t, "the second render changed the package", first, snapshot(t, pkg))
			verifyReport(t, testutil.MustRun(t, repoRoot, nil, aggapiBin, "verify", pkg))
		})
	}
}

// TestServerExamplesAgree keeps the two forms of each example on one config.
func TestServerExamplesAgree(t *testing.T) {
	for _, ex := range serverExamples {
		specs := map[string]string{}
		for _, form := range []string{"kustomize", "kpt"} {
			nodes := readTree(t, filepath.Join(repoRoot, "examples", ex.name, form))
			for _, n := range nodes {
				if n.GetKind() == "AggregatedAPI" {
					spec, err := n.Pipe(yaml.Lookup("spec"))
					if err != nil || spec == nil {
						t.Fatalf("%s/%s: no spec", ex.name, form)
					}
					specs[form] = spec.MustString()
				}
			}
		}
		if specs["kustomize"] == "" || specs["kustomize"] != specs["kpt"] {
			t.Errorf("%s: the kustomize and kpt configs differ: %s", ex.name, firstDiff(specs["kustomize"], specs["kpt"]))
		}
	}
}

func checkKptFiles(t *testing.T, before, after tree) {
	t.Helper()
	for _, d := range diffTrees(before, after) {
		if !strings.HasPrefix(d, "added ") {
			t.Errorf("the render touched an existing file: %s", d)
		}
	}
	assertNoSecretsInFiles(t, after)
}

func checkMetricsServer(t *testing.T, r *rendered) {
	t.Helper()
	view := clusterRoleOf(t, r, "system:aggregated-metrics-reader")
	// Upstream's rule, as imported.
	want := []rbacv1.PolicyRule{{APIGroups: []string{"metrics.k8s.io"}, Resources: []string{"pods", "nodes"}, Verbs: []string{"get", "list", "watch"}}}
	if !slices.EqualFunc(view.Rules, want, rulesEqual) {
		t.Errorf("view role rules %v, want %v", view.Rules, want)
	}
	var np networkingv1.NetworkPolicy
	decode(t, r.Objects[objID{"networking.k8s.io/v1", "NetworkPolicy", "kube-system", "metrics-server"}], &np)
	kubelets := false
	for _, rule := range np.Spec.Egress {
		for _, p := range rule.Ports {
			kubelets = kubelets || (p.Port != nil && p.Port.IntVal == 10250 && len(rule.To) == 0)
		}
	}
	if !kubelets {
		t.Errorf("the NetworkPolicy does not let metrics-server reach the kubelets on 10250: %+v", np.Spec.Egress)
	}
}

func checkCustomMetricsAdapter(t *testing.T, r *rendered) {
	t.Helper()
	view := clusterRoleOf(t, r, "custom-metrics-view")
	read := []string{"get", "list", "watch"}
	want := []rbacv1.PolicyRule{
		{APIGroups: []string{"custom.metrics.k8s.io"}, Resources: []string{"*"}, Verbs: read},
		{APIGroups: []string{"external.metrics.k8s.io"}, Resources: []string{"*"}, Verbs: read},
	}
	if !slices.EqualFunc(view.Rules, want, rulesEqual) {
		t.Errorf("view role rules %v, want %v", view.Rules, want)
	}
}

func clusterRoleOf(t *testing.T, r *rendered, name string) rbacv1.ClusterRole {
	t.Helper()
	var role rbacv1.ClusterRole
	decode(t, r.Objects[objID{"rbac.authorization.k8s.io/v1", "ClusterRole", "", name}], &role)
	if role.Labels["rbac.authorization.k8s.io/aggregate-to-view"] != "true" {
		t.Errorf("ClusterRole %s does not aggregate to view", name)
	}
	return role
}

func rulesEqual(a, b rbacv1.PolicyRule) bool {
	return slices.Equal(a.APIGroups, b.APIGroups) && slices.Equal(a.Resources, b.Resources) && slices.Equal(a.Verbs, b.Verbs)
}
