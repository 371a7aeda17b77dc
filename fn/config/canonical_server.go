package config

// tlsAndMetricsWithoutDefaults folds what renders nothing to unset, for Canonical: an
// empty tls, an empty metrics, and a ServiceMonitor that is not enabled (Validate
// refuses its other fields then). The Server is not changed.
func tlsAndMetricsWithoutDefaults(sv Server) (*ServerTLS, *ServerMetrics) {
	t, m := sv.TLS, sv.Metrics
	if t != nil && t.MinVersion == "" && len(t.CipherSuites) == 0 {
		t = nil
	}
	if m != nil && m.ServiceMonitor != nil && !m.ServiceMonitor.Enabled {
		c := *m
		c.ServiceMonitor = nil
		m = &c
	}
	if m != nil && *m == (ServerMetrics{}) {
		m = nil
	}
	return t, m
}
