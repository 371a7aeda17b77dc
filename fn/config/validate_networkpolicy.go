package config

import (
	"bytes"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The rules of spec.networkPolicy.extraIngress and extraEgress mirror kube-apiserver's
// NetworkPolicy validation (k8s.io/kubernetes/pkg/apis/networking/validation, v1.37:
// ValidateNetworkPolicyPort, ValidateNetworkPolicyPeer, ValidateIPBlock), which the
// function cannot link; the apimachinery helpers it calls are called here too.
// TestNetworkPolicyRulesMirrorKubernetes holds the cases of its tests.

// validateNetworkPolicy checks spec.networkPolicy: the CIDRs of the generated rules,
// and the extra rules, decoded strictly.
func validateNetworkPolicy(p *field.Path, np *NetworkPolicy) field.ErrorList {
	var errs field.ErrorList
	for i, cidr := range np.APIServerCIDRs {
		// Each becomes the cidr of an ipBlock peer of the generated rules.
		errs = append(errs, cidrErrors(p.Child("apiServerCIDRs").Index(i), cidr)...)
	}
	if !np.Enabled {
		var disabled field.ErrorList
		konnectivity := 0
		if np.AllowKonnectivityAgents {
			konnectivity = 1
		}
		for key, n := range map[string]int{"extraIngress": len(np.ExtraIngress), "extraEgress": len(np.ExtraEgress), "allowKonnectivityAgents": konnectivity} {
			if n > 0 {
				disabled = append(disabled, field.Forbidden(p.Child(key), "has no effect: spec.networkPolicy.enabled is false"))
			}
		}
		slices.SortFunc(disabled, func(a, b *field.Error) int { return strings.Compare(a.Field, b.Field) })
		errs = append(errs, disabled...)
	}
	for i, r := range np.ExtraIngress {
		rp := p.Child("extraIngress").Index(i)
		var rule networkingv1.NetworkPolicyIngressRule
		if e := decodeStrict(rp, bytes.TrimSpace(r.Raw), &rule); len(e) > 0 {
			errs = append(errs, e...)
			continue
		}
		errs = append(errs, validatePorts(rp.Child("ports"), rule.Ports)...)
		errs = append(errs, validatePeers(rp.Child("from"), rule.From)...)
	}
	for i, r := range np.ExtraEgress {
		rp := p.Child("extraEgress").Index(i)
		var rule networkingv1.NetworkPolicyEgressRule
		if e := decodeStrict(rp, bytes.TrimSpace(r.Raw), &rule); len(e) > 0 {
			errs = append(errs, e...)
			continue
		}
		errs = append(errs, validatePorts(rp.Child("ports"), rule.Ports)...)
		errs = append(errs, validatePeers(rp.Child("to"), rule.To)...)
	}
	return errs
}

// validatePorts is ValidateNetworkPolicyPort for each port.
func validatePorts(p *field.Path, ports []networkingv1.NetworkPolicyPort) field.ErrorList {
	var errs field.ErrorList
	for i, port := range ports {
		pp := p.Index(i)
		if pr := port.Protocol; pr != nil && *pr != corev1.ProtocolTCP && *pr != corev1.ProtocolUDP && *pr != corev1.ProtocolSCTP {
			errs = append(errs, field.NotSupported(pp.Child("protocol"), *pr, []string{"TCP", "UDP", "SCTP"}))
		}
		switch {
		case port.Port == nil:
			if port.EndPort != nil {
				errs = append(errs, field.Invalid(pp.Child("endPort"), *port.EndPort, "may not be specified when `port` is not specified"))
			}
		case port.Port.Type == intstr.Int:
			for _, msg := range validation.IsValidPortNum(int(port.Port.IntVal)) {
				errs = append(errs, field.Invalid(pp.Child("port"), port.Port.IntVal, msg))
			}
			if port.EndPort != nil {
				if *port.EndPort < port.Port.IntVal {
					errs = append(errs, field.Invalid(pp.Child("endPort"), *port.EndPort, fmt.Sprintf("must be greater than or equal to `port` (%d)", port.Port.IntVal)))
				}
				for _, msg := range validation.IsValidPortNum(int(*port.EndPort)) {
					errs = append(errs, field.Invalid(pp.Child("endPort"), *port.EndPort, msg))
				}
			}
		default:
			if port.EndPort != nil {
				errs = append(errs, field.Invalid(pp.Child("endPort"), *port.EndPort, "may not be specified when `port` is non-numeric"))
			}
			for _, msg := range validation.IsValidPortName(port.Port.StrVal) {
				errs = append(errs, field.Invalid(pp.Child("port"), port.Port.StrVal, msg))
			}
		}
	}
	return errs
}

// validatePeers is ValidateNetworkPolicyPeer for each peer: exactly one kind of peer
// (podSelector and namespaceSelector may go together), valid selectors, a valid ipBlock.
func validatePeers(p *field.Path, peers []networkingv1.NetworkPolicyPeer) field.ErrorList {
	var errs field.ErrorList
	for i, peer := range peers {
		pp := p.Index(i)
		n := 0
		if peer.PodSelector != nil {
			n++
			errs = append(errs, labelSelectorErrors(pp.Child("podSelector"), peer.PodSelector)...)
		}
		if peer.NamespaceSelector != nil {
			n++
			errs = append(errs, labelSelectorErrors(pp.Child("namespaceSelector"), peer.NamespaceSelector)...)
		}
		if peer.IPBlock != nil {
			n++
			errs = append(errs, ipBlockErrors(pp.Child("ipBlock"), peer.IPBlock)...)
		}
		switch {
		case n == 0:
			// An empty peer selects nothing in kube-apiserver's eyes: it refuses it.
			errs = append(errs, field.Required(pp, "must specify a peer: podSelector, namespaceSelector or ipBlock (to allow every peer, leave out the from/to list)"))
		case n > 1 && peer.IPBlock != nil:
			errs = append(errs, field.Forbidden(pp, "may not specify both ipBlock and another peer"))
		}
	}
	return errs
}

// labelSelectorErrors is ValidateLabelSelector with matchLabels checked one label at a
// time in sorted order, so each error names its key and they come out in one order.
func labelSelectorErrors(p *field.Path, s *metav1.LabelSelector) field.ErrorList {
	var errs field.ErrorList
	for _, k := range slices.Sorted(maps.Keys(s.MatchLabels)) {
		errs = append(errs, labelErrors(p.Child("matchLabels").Key(k), k, s.MatchLabels[k])...)
	}
	for i, r := range s.MatchExpressions {
		errs = append(errs, metav1validation.ValidateLabelSelectorRequirement(r, metav1validation.LabelSelectorValidationOptions{}, p.Child("matchExpressions").Index(i))...)
	}
	return errs
}

// ipBlockErrors is ValidateIPBlock: a CIDR, and each except a CIDR strictly inside it
// (so of the same family, and with a longer prefix).
func ipBlockErrors(p *field.Path, b *networkingv1.IPBlock) field.ErrorList {
	if b.CIDR == "" {
		return field.ErrorList{field.Required(p.Child("cidr"), "")}
	}
	errs := cidrErrors(p.Child("cidr"), b.CIDR)
	if len(errs) > 0 {
		return errs
	}
	_, block, _ := net.ParseCIDR(b.CIDR)
	blockLen, _ := block.Mask.Size()
	for i, ex := range b.Except {
		ep := p.Child("except").Index(i)
		if e := cidrErrors(ep, ex); len(e) > 0 {
			errs = append(errs, e...)
			continue
		}
		_, except, _ := net.ParseCIDR(ex)
		exceptLen, _ := except.Mask.Size()
		if !block.Contains(except.IP) || blockLen >= exceptLen {
			errs = append(errs, field.Invalid(ep, ex, fmt.Sprintf("must be a strict subset of `cidr` (%s)", b.CIDR)))
		}
	}
	return errs
}

// cidrErrors checks a CIDR as kube-apiserver does with strict IP validation
// (validation.IsValidCIDRForLegacyField, strict): no leading zeros, no IPv4-mapped IPv6
// address, no bits set past the prefix. The non-strict default of v1.37 still takes
// 10.0.0.1/24 and reads it as 10.0.0.0/24 with a warning; an ambiguous CIDR in a policy
// is refused here, with both readings.
func cidrErrors(p *field.Path, cidr string) field.ErrorList {
	errs := validation.IsValidCIDRForLegacyField(p, cidr, true, nil)
	if len(errs) == 0 {
		return nil
	}
	if prefix, err := netip.ParsePrefix(cidr); err == nil && prefix.Addr() != prefix.Masked().Addr() {
		return field.ErrorList{field.Invalid(p, cidr, fmt.Sprintf("must not have bits set beyond the prefix length: the network is %s, the one address %s/%d",
			prefix.Masked(), prefix.Addr(), prefix.Addr().BitLen()))}
	}
	return errs
}
