package controlplane

import (
	"context"
	"fmt"
	"time"
)

// ExternalNameService returns a Service that makes the aggregator dial
// 127.0.0.1:<APIService spec.service.port> for APIServices that reference
// it. It only works with Options.DisableAggregatorRouting: with endpoint
// routing the aggregator only follows EndpointSlices, which cannot hold
// loopback addresses. The aggregator still verifies the backend's
// certificate for "<name>.<namespace>.svc".
func ExternalNameService(namespace, name string) map[string]any {
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "Service",
		"metadata":   map[string]any{"name": name, "namespace": namespace},
		"spec": map[string]any{
			"type": "ExternalName",
			// A DNS-1123 subdomain, so allowed here; used as a literal IP by
			// the dialer, so no name resolution (and no DNS traffic) happens.
			"externalName": "127.0.0.1",
		},
	}
}

// APIServiceCondition is one entry of an APIService's status.conditions.
type APIServiceCondition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// WaitAPIServiceAvailable waits until the APIService (e.g.
// "v1alpha1.wardle.example.com") reports Available=True. On timeout the
// error includes the last condition seen.
func (cp *ControlPlane) WaitAPIServiceAvailable(ctx context.Context, name string, timeout time.Duration) error {
	client, err := cp.AdminClient()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last APIServiceCondition
	err = Poll(ctx, 500*time.Millisecond, func(ctx context.Context) (bool, error) {
		var svc struct {
			Status struct {
				Conditions []APIServiceCondition `json:"conditions"`
			} `json:"status"`
		}
		if err := client.Get(ctx, "/apis/apiregistration.k8s.io/v1/apiservices/"+name, &svc); err != nil {
			return false, err
		}
		for _, c := range svc.Status.Conditions {
			if c.Type == "Available" {
				last = c
				return c.Status == "True", nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("APIService %s not available: %w (last Available condition: %+v)", name, err, last)
	}
	return nil
}
