package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/aggapi/aggapi/fn/keys"
)

// validateWorkload checks the fields that keep an existing installation's workload
// (containerName, selectorLabels) and the rollout settings (podDisruptionBudget).
func (a *AggregatedAPI) validateWorkload(p *field.Path) field.ErrorList {
	var errs field.ErrorList
	sv := a.Spec.Server
	if sv.ContainerName != "" {
		errs = append(errs, dns(p.Child("containerName"), sv.ContainerName, validation.IsDNS1123Label)...)
	}
	errs = append(errs, a.validateSelectorLabels(p.Child("selectorLabels"))...)
	errs = append(errs, DisruptionBudgetErrors(p.Child("podDisruptionBudget"), sv)...)
	return errs
}

// validateSelectorLabels: each label valid as Kubernetes takes it, none that the
// function sets to its own value on every object, and none that spec.commonLabels
// gives another value (the pods carry one value per key).
func (a *AggregatedAPI) validateSelectorLabels(p *field.Path) field.ErrorList {
	var errs field.ErrorList
	l := a.Spec.Server.SelectorLabels
	for _, k := range slices.Sorted(maps.Keys(l)) {
		kp := p.Key(k)
		switch {
		case k == keys.OwnerLabel || k == keys.ManagedByLabel:
			errs = append(errs, field.Forbidden(kp, "the function sets this label itself on every object it renders, so it cannot tell the server's pods from its other objects; select the pods by other labels"))
			continue
		case a.Spec.CommonLabels[k] != "" && a.Spec.CommonLabels[k] != l[k]:
			errs = append(errs, field.Invalid(kp, l[k], fmt.Sprintf("spec.commonLabels gives %s the value %q: the pods carry one value, so give the same one or leave it out of commonLabels", k, a.Spec.CommonLabels[k])))
			continue
		}
		errs = append(errs, metav1validation.ValidateLabels(map[string]string{k: l[k]}, kp)...)
	}
	return errs
}

// DisruptionBudgetErrors checks sv's budget: one of minAvailable and maxUnavailable,
// each a number of pods or a percentage as the API server takes them, and one that lets
// a drain evict a pod when every replica is ready. A budget that allows no disruption
// blocks every node drain and cluster upgrade on the nodes running the server; more
// replicas keep the API available through a drain instead. aggapi import asks it too,
// before it adopts an installation's budget.
func DisruptionBudgetErrors(p *field.Path, sv Server) field.ErrorList {
	b := sv.PodDisruptionBudget
	if b == nil {
		return nil
	}
	var errs field.ErrorList
	if budgetSet(b.MinAvailable) && budgetSet(b.MaxUnavailable) {
		return field.ErrorList{field.Invalid(p.Child("maxUnavailable"), rawValue(b.MaxUnavailable), "set minAvailable or maxUnavailable, not both (a PodDisruptionBudget takes one)")}
	}
	check := func(name string, minAvailable bool) {
		raw := b.MaxUnavailable
		if minAvailable {
			raw = b.MinAvailable
		}
		if !budgetSet(raw) {
			return
		}
		fp := p.Child(name)
		v, err := intOrPercent(raw)
		if err != nil {
			errs = append(errs, field.Invalid(fp, rawValue(raw), err.Error()))
			return
		}
		n, err := intstr.GetScaledValueFromIntOrPercent(&v, int(sv.Replicas), true)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(fp, v.String(), err.Error()))
			return
		case v.Type == intstr.Int && v.IntVal < 0:
			errs = append(errs, field.Invalid(fp, v.String(), "must not be negative"))
			return
		case v.Type == intstr.String && n > int(sv.Replicas):
			errs = append(errs, field.Invalid(fp, v.String(), "must not be more than 100%"))
			return
		}
		// What the disruption controller computes with every replica ready (rounding
		// percentages up): the pods that must stay, and so how many a drain may evict.
		stay := n
		if !minAvailable {
			stay = max(int(sv.Replicas)-n, 0)
		}
		if stay >= int(sv.Replicas) {
			errs = append(errs, field.Invalid(fp, v.String(), fmt.Sprintf(
				"with %d replica(s) this budget allows no disruption: every node drain (and a cluster upgrade) would block on the server's pods; raise spec.server.replicas or allow at least one pod to go", sv.Replicas)))
		}
	}
	check("minAvailable", true)
	check("maxUnavailable", false)
	return errs
}

// rawValue is a budget as the user wrote it, for a message: a string without its JSON
// quotes, anything else as its JSON.
func rawValue(r *runtime.RawExtension) string {
	var s string
	if json.Unmarshal(r.Raw, &s) == nil {
		return s
	}
	return string(bytes.TrimSpace(r.Raw))
}
