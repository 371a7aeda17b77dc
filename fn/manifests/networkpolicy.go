package manifests

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/aggapi/aggapi/fn/config"
)

// NetworkPolicy admits the kube-apiserver to the server's port and lets the server
// reach the kube-apiserver (delegated authn/authz, informers) and DNS, plus the rules
// of spec.networkPolicy.extraIngress and extraEgress; nothing else.
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
	return &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: meta(api, n.NetworkPolicy, api.Spec.Namespace),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: selector(api)},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress: append([]networkingv1.NetworkPolicyIngressRule{{
				From:  peers,
				Ports: []networkingv1.NetworkPolicyPort{port(api.Spec.Server.Port, &tcp)},
			}}, np.IngressRules()...),
			Egress: append([]networkingv1.NetworkPolicyEgressRule{
				{To: peers, Ports: apiPorts},
				{Ports: []networkingv1.NetworkPolicyPort{port(53, &udp), port(53, &tcp)}},
			}, np.EgressRules()...),
		},
	}
}
