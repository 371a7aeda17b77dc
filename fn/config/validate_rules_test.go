package config

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TestAnnotationLimitIsApimachinerys: the limit is kube-apiserver's, and the budget
// for the config's annotations on one object ends exactly at maxUserAnnotationBytes.
func TestAnnotationLimitIsApimachinerys(t *testing.T) {
	if totalAnnotationSizeLimit != apivalidation.TotalAnnotationSizeLimitB {
		t.Fatalf("totalAnnotationSizeLimit = %d, apimachinery's TotalAnnotationSizeLimitB = %d", totalAnnotationSizeLimit, apivalidation.TotalAnnotationSizeLimitB)
	}
	spec := field.NewPath("spec")
	key := "example.com/a"
	fits := map[string]string{key: strings.Repeat("x", maxUserAnnotationBytes-len(key))}
	if errs := validateAnnotationSizes(spec, AggregatedAPISpec{CommonAnnotations: fits}); len(errs) > 0 {
		t.Errorf("commonAnnotations of exactly %d bytes refused: %v", maxUserAnnotationBytes, errs)
	}
	over := map[string]string{key: fits[key] + "x"}
	errs := validateAnnotationSizes(spec, AggregatedAPISpec{CommonAnnotations: over})
	if len(errs) != 1 || errs[0].Field != "spec.commonAnnotations" {
		t.Errorf("commonAnnotations of %d bytes: %v, want one error at spec.commonAnnotations", maxUserAnnotationBytes+1, errs)
	}
	// A key of the Service's replaces the common one: counted once.
	s := AggregatedAPISpec{CommonAnnotations: fits, Service: Service{Annotations: map[string]string{key: "short"}}}
	if errs := validateAnnotationSizes(spec, s); len(errs) > 0 {
		t.Errorf("a Service annotation overriding a common one is counted twice: %v", errs)
	}
	// kube-apiserver refuses what the function would emit past the limit.
	emitted := map[string]string{key: strings.Repeat("x", totalAnnotationSizeLimit)}
	if len(apivalidation.ValidateAnnotations(emitted, spec)) == 0 {
		t.Errorf("apimachinery takes %d bytes of annotations: the limit moved", totalAnnotationSizeLimit+len(key))
	}
}

// TestLabelChecksAreApimachinerys: a label the config refuses is one ValidateLabels
// refuses, and the other way round (reserved keys aside).
func TestLabelChecksAreApimachinerys(t *testing.T) {
	for _, l := range [][2]string{
		{"app", "wardle"}, {"example.com/team", ""}, {"bad key", "x"}, {"a/b/c", "x"},
		{"example.com/", "x"}, {"-x", "x"}, {strings.Repeat("k", 64), "x"},
		{"k", strings.Repeat("v", 64)}, {"k", "-v"}, {"k", "v w"}, {"UPPER.example.com/k", "v"},
	} {
		got := len(validateLabels(field.NewPath("l"), map[string]string{l[0]: l[1]})) > 0
		want := len(metav1validation.ValidateLabels(map[string]string{l[0]: l[1]}, field.NewPath("l"))) > 0
		if got != want {
			t.Errorf("label %q=%q: refused %v, apimachinery refuses %v", l[0], l[1], got, want)
		}
	}
}

// TestNetworkPolicyRulesMirrorKubernetes holds the cases of kube-apiserver's NetworkPolicy
// tests (pkg/apis/networking/validation, v1.37) that apply to one rule: each valid rule
// is taken and each invalid one refused.
func TestNetworkPolicyRulesMirrorKubernetes(t *testing.T) {
	valid := []string{
		`{}`,
		`{"ports":[{"port":80}]}`,
		`{"ports":[{"protocol":"TCP","port":80},{"protocol":"UDP","port":"dns"},{"protocol":"SCTP","port":7777}]}`,
		`{"ports":[{"protocol":"TCP","port":30000,"endPort":32768}]}`,
		`{"ports":[{"protocol":"TCP","port":32000,"endPort":32000}]}`,
		`{"from":[{"podSelector":{"matchLabels":{"c":"d"}}}]}`,
		`{"from":[{"namespaceSelector":{"matchLabels":{"c":"d"}}}]}`,
		`{"from":[{"namespaceSelector":{"matchLabels":{"c":"d"}},"podSelector":{"matchLabels":{"e":"f"}}}]}`,
		`{"from":[{"podSelector":{}}]}`,
		`{"from":[{"ipBlock":{"cidr":"192.168.0.0/16","except":["192.168.3.0/24","192.168.4.0/24"]}}]}`,
		`{"from":[{"ipBlock":{"cidr":"fd00:192:168::/48","except":["fd00:192:168:3::/64","fd00:192:168:4::/64"]}}]}`,
		`{"from":[{"podSelector":{"matchExpressions":[{"key":"a","operator":"Exists"},{"key":"b","operator":"NotIn","values":["c"]}]}}]}`,
	}
	invalid := map[string]string{
		"protocol":              `{"ports":[{"protocol":"ICMP","port":80}]}`,
		"port zero":             `{"ports":[{"port":0}]}`,
		"port too high":         `{"ports":[{"port":65536}]}`,
		"port name":             `{"ports":[{"port":"!@#$"}]}`,
		"endPort below port":    `{"ports":[{"port":35000,"endPort":32000}]}`,
		"endPort too high":      `{"ports":[{"port":30000,"endPort":65536}]}`,
		"endPort named port":    `{"ports":[{"port":"https","endPort":8443}]}`,
		"endPort without port":  `{"ports":[{"endPort":8443}]}`,
		"empty peer":            `{"from":[{}]}`,
		"ipBlock and selector":  `{"from":[{"podSelector":{},"ipBlock":{"cidr":"10.0.0.0/8"}}]}`,
		"ipBlock and namespace": `{"from":[{"namespaceSelector":{},"ipBlock":{"cidr":"10.0.0.0/8"}}]}`,
		"missing cidr":          `{"from":[{"ipBlock":{"except":["10.0.0.0/16"]}}]}`,
		"invalid cidr":          `{"from":[{"ipBlock":{"cidr":"192.168.5.6"}}]}`,
		"invalid except":        `{"from":[{"ipBlock":{"cidr":"192.168.0.0/16","except":["192.168.8.0/33"]}}]}`,
		"except outside":        `{"from":[{"ipBlock":{"cidr":"192.168.8.0/24","except":["192.169.8.0/24"]}}]}`,
		"except equal":          `{"from":[{"ipBlock":{"cidr":"192.168.0.0/24","except":["192.168.0.0/24"]}}]}`,
		"except wider":          `{"from":[{"ipBlock":{"cidr":"192.168.0.0/24","except":["192.168.0.0/16"]}}]}`,
		"except v6 outside":     `{"from":[{"ipBlock":{"cidr":"fd00:192:168::/48","except":["fd00:192:169:3::/64"]}}]}`,
		"except other family":   `{"from":[{"ipBlock":{"cidr":"10.0.0.0/8","except":["fd00::/64"]}}]}`,
		"operator":              `{"from":[{"podSelector":{"matchExpressions":[{"key":"a","operator":"Contains","values":["b"]}]}}]}`,
		"In without values":     `{"from":[{"podSelector":{"matchExpressions":[{"key":"a","operator":"In"}]}}]}`,
		"Exists with values":    `{"from":[{"podSelector":{"matchExpressions":[{"key":"a","operator":"Exists","values":["b"]}]}}]}`,
		"selector key":          `{"from":[{"namespaceSelector":{"matchLabels":{"a b":"c"}}}]}`,
		"selector value":        `{"from":[{"podSelector":{"matchLabels":{"a":"b c"}}}]}`,
		"expression value":      `{"from":[{"podSelector":{"matchExpressions":[{"key":"a","operator":"In","values":["-b"]}]}}]}`,
	}
	check := func(rule string) field.ErrorList {
		np := &NetworkPolicy{Enabled: true, ExtraIngress: []runtime.RawExtension{{Raw: []byte(rule)}}}
		return validateNetworkPolicy(field.NewPath("np"), np)
	}
	for _, rule := range valid {
		if errs := check(rule); len(errs) > 0 {
			t.Errorf("%s refused: %v", rule, errs)
		}
		// And decodable as the Kubernetes type, which the render appends.
		if errs := decodeStrict(nil, []byte(rule), &networkingv1.NetworkPolicyIngressRule{}); len(errs) > 0 {
			t.Errorf("%s: %v", rule, errs)
		}
	}
	for name, rule := range invalid {
		if errs := check(rule); len(errs) == 0 {
			t.Errorf("%s: %s accepted", name, rule)
		}
	}
}

func TestBroadExtraRulesWarn(t *testing.T) {
	api := &AggregatedAPI{}
	api.Spec.Server.ExtraRules = []PolicyRule{
		{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}},
		{Verbs: []string{"get"}, APIGroups: []string{"apps"}, Resources: []string{"*/scale"}},
		{Verbs: []string{"get", "impersonate"}, APIGroups: []string{""}, Resources: []string{"users"}},
		{Verbs: []string{"get"}, NonResourceURLs: []string{"/*"}},
		{Verbs: []string{"get"}, NonResourceURLs: []string{"/metrics", "/healthz/*"}},
	}
	ws := api.Warnings()
	var fields []string
	for _, w := range ws {
		fields = append(fields, w.Field)
	}
	want := "spec.server.extraRules[1] spec.server.extraRules[2] spec.server.extraRules[3]"
	if got := strings.Join(fields, " "); got != want {
		t.Errorf("warnings at %s, want %s: %v", got, want, ws)
	}
}
