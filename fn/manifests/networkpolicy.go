package manifests

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/aggapi/aggapi/fn/config"
)

// konnectivityAgents select the konnectivity agent pods through which a managed control
// plane reaches pods: GKE runs them in kube-system labelled k8s-app: konnectivity-agent
// (as Kubernetes' own cluster/gce/addons/konnectivity-agent DaemonSet does), AKS
// labelled app: konnectivity-agent.
var konnectivityAgents = []map[string]string{{"k8s-app": "konnectivity-agent"}, {"app": "konnectivity-agent"}}

// NetworkPolicy admits the kube-apiserver to the server's port and lets the server
// reach the kube-apiserver (delegated authn/authz, informers) and DNS, plus the rules
// of spec.networkPolicy.extraIngress and extraEgress; nothing else. With
// allowKonnectivityAgents, the konnectivity agents are admitted to the port as well.
func NetworkPolicy(api *config.AggregatedAPI, n Names) *networkingv1.NetworkPolicy {
	np := api.Spec.NetworkPolicy
	var peers []networkingv1.NetworkPolicyPeer
	for _, cidr := range np.APIServerCIDRs {
		peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr}})
	}
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	port := func(p int32, proto *corev1.Protocol) networkingv1.NetworkPolicyPort {
		return networkingv1.NetworkPolicyPort{Protocol: proto, Port: ptr.To(intstr.FromInt32(p))}
	}
	var apiPorts []networkingv1.NetworkPolicyPort
	for _, p := range np.APIServerPorts {
		apiPorts = append(apiPorts, port(p, &tcp))
	}
	serverPort := []networkingv1.NetworkPolicyPort{port(api.Spec.Server.Port, &tcp)}
	ingress := []networkingv1.NetworkPolicyIngressRule{{From: peers, Ports: serverPort}}
	if np.AllowKonnectivityAgents {
		// Its own rule: added to an empty apiServerCIDRs, these peers would narrow "any source".
		var agents []networkingv1.NetworkPolicyPeer
		for _, l := range konnectivityAgents {
			agents = append(agents, networkingv1.NetworkPolicyPeer{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: kubeSystem}},
				PodSelector:       &metav1.LabelSelector{MatchLabels: l},
			})
		}
		ingress = append(ingress, networkingv1.NetworkPolicyIngressRule{From: agents, Ports: serverPort})
	}
	if mp := metricsPort(api); mp != 0 {
		// Prometheus may run anywhere: the metrics port admits any source, the API port does not.
		ingress = append(ingress, networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{port(mp, &tcp)}})
	}
	return &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: meta(api, n.NetworkPolicy, api.Spec.Namespace),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: selector(api)},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress:     append(ingress, np.IngressRules()...),
			Egress: append([]networkingv1.NetworkPolicyEgressRule{
				{To: peers, Ports: apiPorts},
				{Ports: []networkingv1.NetworkPolicyPort{port(53, &udp), port(53, &tcp)}},
			}, np.EgressRules()...),
		},
	}
}
