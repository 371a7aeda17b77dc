package manifests

import (
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/aggapi/aggapi/fn/config"
)

// PodDisruptionBudget keeps all but one replica through voluntary disruptions (node
// drains); emitted only with more than one replica, where it cannot block a drain.
func PodDisruptionBudget(api *config.AggregatedAPI, n Names) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: meta(api, n.PodDisruptionBudget, api.Spec.Namespace),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: ptr.To(intstr.FromInt32(1)),
			Selector:       &metav1.LabelSelector{MatchLabels: selector(api)},
		},
	}
}
