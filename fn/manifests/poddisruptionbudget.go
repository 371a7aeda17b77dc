package manifests

import (
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aggapi/aggapi/fn/config"
)

// PodDisruptionBudget keeps the server available through voluntary disruptions (node
// drains): spec.server.podDisruptionBudget, by default all but one replica. Build emits
// it with more than one replica or when the config sets it; config refuses a budget
// that would block a drain.
func PodDisruptionBudget(api *config.AggregatedAPI, n Names) *policyv1.PodDisruptionBudget {
	minAvailable, maxUnavailable := api.Spec.Server.DisruptionBudget()
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: meta(api, n.PodDisruptionBudget, api.Spec.Namespace),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable:   minAvailable,
			MaxUnavailable: maxUnavailable,
			Selector:       &metav1.LabelSelector{MatchLabels: selector(api)},
		},
	}
}
