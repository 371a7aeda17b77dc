package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/aggapi/aggapi/fn/keys"
)

// selectorComponent is the component label value of the default selector.
const selectorComponent = "apiserver"

// DefaultMaxUnavailable is the PodDisruptionBudget's maxUnavailable when the config
// sets no budget.
const DefaultMaxUnavailable = 1

// SelectorLabels are the labels that select the server's pods: spec.server.selectorLabels,
// or by default the config's name and the apiserver component. The caller may change
// the map it gets.
func (a *AggregatedAPI) SelectorLabels() map[string]string {
	if l := a.Spec.Server.SelectorLabels; len(l) > 0 {
		return maps.Clone(l)
	}
	return a.defaultSelectorLabels()
}

func (a *AggregatedAPI) defaultSelectorLabels() map[string]string {
	return map[string]string{keys.NameLabel: a.Name, keys.ComponentLabel: selectorComponent}
}

// EmitsAPIService reports whether the render emits the APIService of version v.
func (v Version) EmitsAPIService() bool {
	return v.CreateAPIService == nil || *v.CreateAPIService
}

// DisruptionBudget is the PodDisruptionBudget's minAvailable or maxUnavailable (the
// other nil): what spec.server.podDisruptionBudget sets, else maxUnavailable 1. Call
// it on a validated config.
func (s Server) DisruptionBudget() (minAvailable, maxUnavailable *intstr.IntOrString) {
	b := s.PodDisruptionBudget
	switch {
	case b == nil || !budgetSet(b.MinAvailable) && !budgetSet(b.MaxUnavailable):
		d := intstr.FromInt32(DefaultMaxUnavailable)
		return nil, &d
	case budgetSet(b.MinAvailable):
		v, _ := intOrPercent(b.MinAvailable)
		return &v, nil
	default:
		v, _ := intOrPercent(b.MaxUnavailable)
		return nil, &v
	}
}

// budgetSet reports whether a budget holds a value: absent and null are unset.
func budgetSet(r *runtime.RawExtension) bool {
	if r == nil {
		return false
	}
	raw := bytes.TrimSpace(r.Raw)
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

// intOrPercent reads an int-or-string budget as Kubernetes takes it: a whole number of
// pods, or a string percentage such as "25%" (apimachinery's IsValidPercent, the
// kube-apiserver's own check of a PodDisruptionBudget).
func intOrPercent(r *runtime.RawExtension) (intstr.IntOrString, error) {
	raw := bytes.TrimSpace(r.Raw)
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if len(validation.IsValidPercent(s)) > 0 {
			return intstr.IntOrString{}, fmt.Errorf("a string must be a percentage such as \"50%%\"")
		}
		return intstr.FromString(s), nil
	}
	n, err := strconv.ParseInt(string(raw), 10, 32)
	if err != nil {
		return intstr.IntOrString{}, fmt.Errorf("must be a whole number of pods or a percentage such as \"50%%\"")
	}
	return intstr.FromInt32(int32(n)), nil
}

// foldWorkloadDefaults clears, in the copy s of the spec that Canonical makes, the
// workload fields spelled out at their defaults: containerName, baseRules,
// selectorLabels, a podDisruptionBudget that renders the default one, and
// createAPIService: true. Slices are copied before they are changed.
func (a *AggregatedAPI) foldWorkloadDefaults(s *AggregatedAPISpec) {
	sv := &s.Server
	if sv.ContainerName == DefaultContainerName {
		sv.ContainerName = ""
	}
	if sv.BaseRules == DefaultBaseRules {
		sv.BaseRules = ""
	}
	if maps.Equal(sv.SelectorLabels, a.defaultSelectorLabels()) {
		sv.SelectorLabels = nil
	}
	if b := sv.PodDisruptionBudget; b != nil && !budgetSet(b.MinAvailable) && budgetSet(b.MaxUnavailable) && sv.Replicas > 1 {
		// Set or not, the same budget is emitted; with one replica, setting it emits one.
		if v, err := intOrPercent(b.MaxUnavailable); err == nil && v == intstr.FromInt32(DefaultMaxUnavailable) {
			sv.PodDisruptionBudget = nil
		}
	}
	s.Versions = versionsWithoutDefaults(s.Versions)
	if len(s.Groups) > 0 {
		s.Groups = slices.Clone(s.Groups)
		for i := range s.Groups {
			s.Groups[i].Versions = versionsWithoutDefaults(s.Groups[i].Versions)
		}
	}
}

// versionsWithoutDefaults is versions with createAPIService: true folded to unset, a
// copy when it changes any.
func versionsWithoutDefaults(versions []Version) []Version {
	isTrue := func(v Version) bool { return v.CreateAPIService != nil && *v.CreateAPIService }
	if !slices.ContainsFunc(versions, isTrue) {
		return versions
	}
	out := slices.Clone(versions)
	for i := range out {
		if isTrue(out[i]) {
			out[i].CreateAPIService = nil
		}
	}
	return out
}
