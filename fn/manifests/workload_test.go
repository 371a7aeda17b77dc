package manifests

import (
	"maps"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/internal/testutil"
)

// adopted is a config that keeps an existing installation's selector, container name
// and ClusterRole, with one of its two APIServices owned by another provider.
const adopted = `    containerName: metrics-server
    selectorLabels: {k8s-app: metrics-server}
    baseRules: None
    replicas: 2
    extraRules: [{apiGroups: [""], resources: [nodes/metrics], verbs: [get]}]
    podTemplate:
      spec:
        containers: [{name: metrics-server, resources: {requests: {memory: 200Mi}}}]
  networkPolicy: {enabled: true}
  versions: [{name: v1alpha1}, {name: v1beta1, createAPIService: false}]
`

// TestAdoptedWorkload: the selector labels select the pods wherever pods are selected
// (and only they, with the pods carrying them), the server container carries its name
// and the podTemplate changes that container, the ClusterRole holds extraRules alone,
// and the version without its APIService has none.
func TestAdoptedWorkload(t *testing.T) {
	doc := strings.Replace(testutil.MinimalConfig("metrics"), "  versions: [{name: v1alpha1}]\n", "", 1) + adopted
	api, errs := config.Load([]byte(doc))
	if len(errs) > 0 {
		t.Fatal(errs.ToAggregate())
	}
	objs, err := Build(api, Material{CABundle: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"k8s-app": "metrics-server"}
	selectors := map[string]map[string]string{}
	var apiServices []string
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			selectors["Deployment"] = o.Spec.Selector.MatchLabels
			selectors["spread"] = o.Spec.Template.Spec.TopologySpreadConstraints[0].LabelSelector.MatchLabels
			for k, v := range want {
				if o.Spec.Template.Labels[k] != v {
					t.Errorf("pod template labels %v lack %s=%s", o.Spec.Template.Labels, k, v)
				}
			}
			cs := o.Spec.Template.Spec.Containers
			if len(cs) != 1 || cs[0].Name != "metrics-server" {
				t.Fatalf("containers %v, want the server alone, named metrics-server", cs)
			}
			if got := cs[0].Resources.Requests[corev1.ResourceMemory]; got.String() != "200Mi" {
				t.Errorf("the podTemplate did not reach the server container: memory request %s", got.String())
			}
		case *corev1.Service:
			selectors["Service"] = o.Spec.Selector
		case *policyv1.PodDisruptionBudget:
			selectors["PodDisruptionBudget"] = o.Spec.Selector.MatchLabels
		case *networkingv1.NetworkPolicy:
			selectors["NetworkPolicy"] = o.Spec.PodSelector.MatchLabels
		case *rbacv1.ClusterRole:
			if o.Name == api.ObjectNames().ServerRole && (len(o.Rules) != 1 || o.Rules[0].Resources[0] != "nodes/metrics") {
				t.Errorf("baseRules None: the server's ClusterRole has %v, want extraRules alone", o.Rules)
			}
		}
		if o.GetObjectKind().GroupVersionKind().Kind == "APIService" {
			apiServices = append(apiServices, o.GetName())
		}
	}
	for _, kind := range []string{"Deployment", "spread", "Service", "PodDisruptionBudget", "NetworkPolicy"} {
		if !maps.Equal(selectors[kind], want) {
			t.Errorf("%s selects %v, want %v", kind, selectors[kind], want)
		}
	}
	if len(apiServices) != 1 || apiServices[0] != "v1alpha1.metrics.example.com" {
		t.Errorf("APIServices %v, want v1alpha1 alone", apiServices)
	}
}

// TestBaseRulesDefault: by default the server's ClusterRole holds what a
// k8s.io/apiserver server reads, then extraRules.
func TestBaseRulesDefault(t *testing.T) {
	api, errs := config.Load([]byte(testutil.MinimalConfig("x") + "    extraRules: [{apiGroups: [\"\"], resources: [pods], verbs: [get]}]\n"))
	if len(errs) > 0 {
		t.Fatal(errs.ToAggregate())
	}
	rules := ServerClusterRole(api, api.ObjectNames()).Rules
	if len(rules) != len(serverRules)+1 || rules[len(rules)-1].Resources[0] != "pods" {
		t.Errorf("rules %v, want the %d server rules and then the extra rule", rules, len(serverRules))
	}
}
