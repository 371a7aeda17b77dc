package doctor

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// checkNetworkPolicies reports NetworkPolicies that select the server's pods for
// ingress and admit no source the control plane can have on the target port. The
// kube-apiserver is not a pod: it reaches the pods from its host's address (an
// ipBlock), or through konnectivity agents (pods in kube-system) or an overlay's
// tunnel address (again an ipBlock). It runs for APIServices that are not Available.
func (d *Doctor) checkNetworkPolicies(ctx context.Context, what string, srv *server) {
	if len(srv.deps) == 0 || srv.port == nil {
		return
	}
	pols := d.networkPolicies(ctx, srv.ref.Namespace)
	if pols.err != nil {
		return
	}
	port := srv.resolveTargetPort()
	for _, dep := range srv.deps {
		if dep.Spec.Template.Spec.HostNetwork {
			continue // NetworkPolicies do not apply to host-network pods
		}
		podLabels := dep.Spec.Template.Labels
		portName := containerPortName(dep.Spec.Template.Spec, port)
		var selecting []string
		admitted := false
		for _, np := range pols.items {
			if !isIngressPolicy(np) {
				continue
			}
			sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
			if err != nil || !sel.Matches(labelSet(podLabels)) {
				continue
			}
			selecting = append(selecting, np.Name)
			for _, rule := range np.Spec.Ingress {
				if portAdmitted(rule.Ports, port, portName) && controlPlanePeer(rule.From) {
					admitted = true
				}
			}
		}
		if len(selecting) == 0 || admitted {
			continue
		}
		d.fail(CauseNetworkPolicyBlocks, what,
			fmt.Sprintf("add an ingress rule to NetworkPolicy %s admitting TCP %d from the control plane's addresses (an ipBlock of the control-plane hosts, and the konnectivity agents or overlay tunnel addresses where the platform uses them; aggapi: networkPolicy.apiServerCIDRs)", selecting[0], port),
			"NetworkPolicy %s in %s select(s) the pods of Deployment %s for ingress and admit no control-plane source (ipBlock, or a rule without from) on TCP %d",
			strings.Join(selecting, ", "), srv.ref.Namespace, dep.Name, port)
	}
}

type labelSet map[string]string

func (l labelSet) Has(k string) bool              { _, ok := l[k]; return ok }
func (l labelSet) Get(k string) string            { return l[k] }
func (l labelSet) Lookup(k string) (string, bool) { v, ok := l[k]; return v, ok }

func isIngressPolicy(np networkingv1.NetworkPolicy) bool {
	if len(np.Spec.PolicyTypes) == 0 {
		return true // no policyTypes: Ingress is implied
	}
	return slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)
}

func containerPortName(spec corev1.PodSpec, port int32) string {
	for _, c := range spec.Containers {
		for _, p := range c.Ports {
			if p.ContainerPort == port {
				return p.Name
			}
		}
	}
	return ""
}

func portAdmitted(ports []networkingv1.NetworkPolicyPort, port int32, name string) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP {
			continue
		}
		switch {
		case p.Port == nil:
			return true
		case p.Port.Type == intstr.String:
			if name != "" && p.Port.StrVal == name {
				return true
			}
		case p.EndPort != nil:
			if port >= p.Port.IntVal && port <= *p.EndPort {
				return true
			}
		case p.Port.IntVal == port:
			return true
		}
	}
	return false
}

// controlPlanePeer: a rule without sources admits everyone; an ipBlock may hold the
// control plane's address (the doctor cannot know it, so it trusts the block); a
// namespaceSelector that can select kube-system admits konnectivity agents.
func controlPlanePeer(from []networkingv1.NetworkPolicyPeer) bool {
	if len(from) == 0 {
		return true
	}
	for _, p := range from {
		if p.IPBlock != nil {
			return true
		}
		if p.NamespaceSelector != nil {
			sel, err := metav1.LabelSelectorAsSelector(p.NamespaceSelector)
			if err == nil && sel.Matches(labelSet{"kubernetes.io/metadata.name": "kube-system"}) {
				return true
			}
		}
	}
	return false
}
