package config

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Warning is something the render reports without failing: the config is valid, but
// it may not be what its author meant.
type Warning struct {
	Field   string // the config field, such as spec.server.extraRules[0]
	Message string
}

// Warnings are the warnings of a valid config, in the order of its fields.
func (a *AggregatedAPI) Warnings() []Warning {
	var ws []Warning
	for i, r := range a.Spec.Server.ExtraRules {
		if broad := broadGrants(r); len(broad) > 0 {
			ws = append(ws, Warning{
				Field: field.NewPath("spec", "server", "extraRules").Index(i).String(),
				Message: fmt.Sprintf("grants the server's ServiceAccount broad access: %s; whoever controls the server's image or pods holds it, so give the verbs, groups and resources it needs",
					strings.Join(broad, ", ")),
			})
		}
	}
	if a.Spec.Server.HostNetwork {
		ws = append(ws, Warning{
			Field: field.NewPath("spec", "server", "hostNetwork").String(),
			Message: "runs the server in the nodes' network namespace: Pod Security baseline and restricted forbid host networking, so namespace " +
				a.Spec.Namespace + " must allow privileged pods (pod-security.kubernetes.io/enforce: privileged); a NetworkPolicy does not apply to host-network pods, so only the nodes' firewall guards the port",
		})
		if np := a.Spec.NetworkPolicy; np != nil && np.Enabled {
			ws = append(ws, Warning{
				Field:   field.NewPath("spec", "networkPolicy", "enabled").String(),
				Message: "the NetworkPolicy is rendered but restricts nothing: spec.server.hostNetwork is true, and NetworkPolicies do not apply to host-network pods",
			})
		}
	}
	if groups := a.APIGroups(); len(groups) > 0 && !slices.ContainsFunc(groups, func(g APIGroup) bool {
		return slices.ContainsFunc(g.Versions, Version.EmitsAPIService)
	}) {
		at := field.NewPath("spec", "versions")
		if len(a.Spec.Groups) > 0 {
			at = field.NewPath("spec", "groups")
		}
		ws = append(ws, Warning{
			Field:   at.String(),
			Message: "every version has createAPIService: false, so no APIService is rendered: the kube-aggregator sends this server nothing until another provider's APIService points at its Service (and trusts its CA)",
		})
	}
	return ws
}

// escalatingVerbs grant more than the rule's resources: creating roles with permissions
// one lacks (escalate), binding any role (bind), acting as another user (impersonate).
var escalatingVerbs = []string{"bind", "escalate", "impersonate"}

// broadGrants says what is broad in an extra rule: wildcards and the verbs that lead to
// more permissions than the rule names.
func broadGrants(r PolicyRule) []string {
	var broad []string
	if slices.Contains(r.Verbs, "*") {
		broad = append(broad, `verbs "*" (every verb, escalate, bind and impersonate included)`)
	}
	for _, v := range escalatingVerbs {
		if slices.Contains(r.Verbs, v) {
			broad = append(broad, fmt.Sprintf("verb %q", v))
		}
	}
	if slices.Contains(r.APIGroups, "*") {
		broad = append(broad, `apiGroups "*" (every API group, the aggregated ones included)`)
	}
	for _, res := range r.Resources {
		if resource, _, _ := strings.Cut(res, "/"); resource == "*" {
			broad = append(broad, fmt.Sprintf("resources %q (every resource of its apiGroups)", res))
		}
	}
	for _, u := range r.NonResourceURLs {
		if u == "*" || u == "/*" {
			broad = append(broad, fmt.Sprintf("nonResourceURLs %q (every path the API server serves without a resource)", u))
		}
	}
	return broad
}
