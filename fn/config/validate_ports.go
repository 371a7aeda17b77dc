package config

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// nodePorts are the ports the node's own agents listen on: a host-network server on one
// of them would not start, or would take the agent's place. The kubelet: 10250 (API),
// 10248 (healthz), 10255 (read-only); kube-proxy: 10249 (metrics), 10256 (healthz).
var nodePorts = map[int32]string{
	10248: "the kubelet's healthz port",
	10249: "kube-proxy's metrics port",
	10250: "the kubelet's port",
	10255: "the kubelet's read-only port",
	10256: "kube-proxy's healthz port",
}

// validatePorts checks the ports the server listens on: with hostNetwork they are the
// node's, so none may be the kubelet's or kube-proxy's; the metrics port is not the API
// port; a ServiceMonitor on the secure port needs a CA the function can point
// Prometheus at.
func (a *AggregatedAPI) validateServerPorts(p *field.Path) field.ErrorList {
	var errs field.ErrorList
	sv := a.Spec.Server
	if sv.HostNetwork {
		if why, ok := nodePorts[sv.Port]; ok {
			errs = append(errs, field.Invalid(p.Child("port"), sv.Port, fmt.Sprintf(
				"with hostNetwork the port is the node's, and %d is %s: set spec.server.port to a port free on every node (the default %d is the kubelet's)",
				sv.Port, why, DefaultServerPort)))
		}
	}
	m := sv.Metrics
	if m == nil {
		return errs
	}
	mp := p.Child("metrics")
	if m.Port != 0 {
		switch why, ok := nodePorts[m.Port]; {
		case m.Port == sv.Port:
			errs = append(errs, field.Invalid(mp.Child("port"), m.Port, "must differ from spec.server.port: leave it out when the secure port serves /metrics"))
		case sv.HostNetwork && ok:
			errs = append(errs, field.Invalid(mp.Child("port"), m.Port, fmt.Sprintf("with hostNetwork the port is the node's, and %d is %s", m.Port, why)))
		}
	}
	if sm := m.ServiceMonitor; sm != nil {
		if !sm.Enabled && sm.Interval != "" {
			errs = append(errs, field.Forbidden(mp.Child("serviceMonitor", "interval"), "has no effect: spec.server.metrics.serviceMonitor.enabled is false"))
		}
		if mode := a.Spec.Certificate.Mode; sm.Enabled && m.Port == 0 && !slices.Contains([]string{ModeGenerate, ModeCertManager}, mode) {
			errs = append(errs, field.Forbidden(mp.Child("serviceMonitor", "enabled"), fmt.Sprintf(
				"in mode %s the function has no Secret holding the CA (ca.crt) for Prometheus to verify the server with, and it never skips verification: scrape it with a ServiceMonitor of your own, or use mode %s",
				mode, strings.Join([]string{ModeGenerate, ModeCertManager}, " or "))))
		}
	}
	return errs
}
