//go:build e2e

package e2e

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Hints: realistic values, and the edges users hit (sizes at and past the API
// server's limits, requests above limits, odd peers), for the schema paths whose
// meaning the schema does not tell. A hint gets the path's schema node, so lengths,
// counts, ranges and enums still come from the schema.

func hintFor(path string) (hint, bool) {
	h, ok := map[string]hint{
		".apiVersion": func(*generator, *schemaNode) any { return "aggapi.dev/v1alpha1" },
		".kind":       func(*generator, *schemaNode) any { return "AggregatedAPI" },
		".metadata":   (*generator).metadata,

		".spec.group":                         shorthand((*generator).group),
		".spec.versions":                      shorthand((*generator).versions),
		".spec.groupPriorityMinimum":          shorthand((*generator).priority),
		".spec.resources":                     shorthand((*generator).resources),
		".spec.readOnly":                      shorthand(func(g *generator, _ *schemaNode) any { return g.chance(0.3) }),
		".spec.groups":                        (*generator).groupList,
		".spec.groups[].group":                (*generator).group,
		".spec.groups[].versions":             (*generator).versions,
		".spec.groups[].resources":            (*generator).resources,
		".spec.groups[].groupPriorityMinimum": (*generator).priority,

		".spec.namespace":       (*generator).namespace,
		".spec.createNamespace": (*generator).createNamespace,
		".spec.names":           (*generator).names,
		".spec.commonLabels":    func(g *generator, s *schemaNode) any { return g.labels(s, "common-labels") },
		".spec.commonAnnotations": func(g *generator, s *schemaNode) any {
			return g.annotations(s, "common-annotations", true)
		},
		".spec.serviceAccount.annotations": (*generator).workloadIdentity,
		".spec.service.annotations":        func(g *generator, s *schemaNode) any { return g.annotations(s, "service-annotations", false) },
		".spec.service.labels":             func(g *generator, s *schemaNode) any { return g.labels(s, "service-labels") },
		".spec.service.name":               (*generator).serviceName,
		".spec.service.port":               func(g *generator, s *schemaNode) any { return g.intAt(s, 443, 443, 8443, 6443) },

		".spec.server.image":      (*generator).image,
		".spec.server.port":       func(g *generator, s *schemaNode) any { return g.intAt(s, 8443, 6443, 4443, 10250, 9443) },
		".spec.server.replicas":   func(g *generator, s *schemaNode) any { return g.intAt(s, 1, 2, 3) },
		".spec.server.command":    (*generator).command,
		".spec.server.args":       (*generator).args,
		".spec.server.flags":      (*generator).flags,
		".spec.server.resources":  func(g *generator, _ *schemaNode) any { return g.containerResources("server") },
		".spec.server.extraRules": (*generator).extraRules,
		".spec.server.priorityClassName": func(g *generator, _ *schemaNode) any {
			return pick(g, "system-cluster-critical", "high-priority", "platform-critical")
		},
		".spec.server.podTemplate": (*generator).podTemplate,
		".spec.server.hostNetwork": (*generator).hostNetwork,
		".spec.server.tls":         (*generator).serverTLS,
		".spec.server.metrics":     (*generator).serverMetrics,

		".spec.server.containerName":        (*generator).containerName,
		".spec.server.selectorLabels":       (*generator).selectorLabels,
		".spec.server.baseRules":            (*generator).baseRules,
		".spec.server.podDisruptionBudget":  (*generator).podDisruptionBudget,
		".spec.server.revisionHistoryLimit": (*generator).revisionHistoryLimit,
		".spec.server.shutdownDelay":        (*generator).shutdownDelay,

		".spec.certificate":              (*generator).certificate,
		".spec.certificate.mode":         func(g *generator, _ *schemaNode) any { return g.modeValue() },
		".spec.certificate.validity":     (*generator).validityValue,
		".spec.certificate.renewBefore":  func(*generator, *schemaNode) any { return omit }, // set with validity
		".spec.certificate.overlap":      func(*generator, *schemaNode) any { return omit }, // set with validity
		".spec.certificate.keyAlgorithm": (*generator).keyAlgorithm,
		".spec.certificate.secretFile":   (*generator).secretFile,
		".spec.certificate.provided":     (*generator).provided,
		".spec.certificate.certManager":  (*generator).certManager,

		".spec.networkPolicy": (*generator).networkPolicy,
	}[path]
	return h, ok
}

func (g *generator) metadata(*schemaNode) any {
	m := map[string]any{"name": g.name}
	if g.chance(0.3) {
		m["annotations"] = map[string]any{"config.kubernetes.io/local-config": "true"}
	}
	return m
}

// shorthand wraps a hint of the one-group shorthand: left out with spec.groups.
func shorthand(h hint) hint {
	return func(g *generator, s *schemaNode) any {
		if g.multiGroup {
			return omit
		}
		return h(g, s)
	}
}

var groupPool = []string{"wardle.example.com", "metrics.k8s.io", "custom.metrics.k8s.io", "external.metrics.k8s.io",
	"tenancy.kcp.io", "billing.acme.io", "search.example.org", "backup.storage.example.net", "inventory.internal.corp"}

func (g *generator) group(s *schemaNode) any {
	for range 20 {
		var grp string
		switch x := g.r.Float64(); {
		case x < 0.5:
			grp = pick(g, groupPool...)
		case x < 0.95:
			grp = g.dnsName(30, false) + "." + pick(g, "example.com", "acme.io", "k8s.example.org", "apps.internal")
		default:
			// Long: the APIService <version>.<group> still fits in 253.
			grp = g.dnsName(63, true)
			for len(grp) < 200 {
				grp += "." + g.dnsName(min(63, 230-len(grp)), true)
			}
			grp += ".example.com"
			g.feature("long-group")
		}
		if s.MaxLength != nil && len(grp) > *s.MaxLength {
			continue
		}
		if !g.groups[grp] {
			g.groups[grp] = true
			return grp
		}
	}
	return omit
}

func (g *generator) groupList(s *schemaNode) any {
	if !g.multiGroup {
		return omit
	}
	n := 2 + g.r.IntN(3)
	if g.chance(0.03) && s.MaxItems != nil {
		n = *s.MaxItems
		g.feature("max-groups")
	}
	var list []any
	for range n {
		item := g.value(".spec.groups[]", s.Items).(map[string]any)
		if _, ok := item["group"]; ok {
			list = append(list, item)
		}
	}
	g.feature(fmt.Sprintf("groups-%d", len(list)))
	return list
}

var versionPool = []string{"v1", "v1alpha1", "v1beta1", "v1beta2", "v2", "v2alpha1", "v2beta1", "v2beta2", "v3", "v1alpha2"}

func (g *generator) versions(s *schemaNode) any {
	n := 1 + g.r.IntN(3)
	if g.chance(0.02) && s.MaxItems != nil {
		n = min(*s.MaxItems, 12) // more APIServices than anyone serves; a longer list only repeats
	}
	seen := map[string]bool{}
	var list []any
	for i := range n {
		name := pick(g, versionPool...)
		if seen[name] {
			name = fmt.Sprintf("v%dalpha%d", 4+i, 1+g.r.IntN(3))
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		v := map[string]any{"name": name}
		if g.chance(0.4) {
			v["versionPriority"] = g.intAt(s.Items.Properties["versionPriority"], 15, 100, 10)
		}
		switch x := g.r.Float64(); {
		case x < 0.08: // another provider owns this APIService
			v["createAPIService"] = false
			g.feature("createAPIService-false")
		case x < 0.12:
			v["createAPIService"] = true
		}
		list = append(list, v)
	}
	return list
}

func (g *generator) priority(s *schemaNode) any { return g.intAt(s, 1000, 100, 17800, 20000) }

var resourcePool = []string{"flunders", "fischers", "flunders/status", "pods", "nodes", "widgets", "widgets/scale",
	"backups", "restores", "workspaces", "clusterworkspaces/content", "metrics", "events"}

func (g *generator) resources(s *schemaNode) any {
	if g.chance(0.08) {
		return []any{"*"}
	}
	n := 1 + g.r.IntN(4)
	if g.chance(0.03) && s.MaxItems != nil {
		n = *s.MaxItems
		g.feature("max-resources")
	}
	seen := map[string]bool{}
	var list []any
	for i := range n {
		r := pick(g, resourcePool...)
		if seen[r] {
			r = fmt.Sprintf("resources%d", i)
		}
		if !seen[r] {
			seen[r] = true
			list = append(list, r)
		}
	}
	return list
}

func (g *generator) namespace(s *schemaNode) any {
	switch x := g.r.Float64(); {
	case x < 0.15:
		g.feature("kube-system")
		return "kube-system"
	case x < 0.5:
		return g.dnsName(*s.MaxLength, true)
	}
	return omit
}

func (g *generator) createNamespace(*schemaNode) any {
	switch x := g.r.Float64(); {
	case x < 0.25:
		g.feature("createNamespace-false")
		return false
	case x < 0.4:
		return true
	}
	return omit
}

// names overrides some object names: each unique by its key, some near their limit,
// RBAC names sometimes with a colon.
func (g *generator) names(s *schemaNode) any {
	if !g.chance(0.25) {
		return omit
	}
	g.feature("names")
	m := map[string]any{}
	for _, k := range sortedKeys(s.Properties) {
		if !g.chance(0.4) {
			continue
		}
		maxLen := *s.Properties[k].MaxLength
		suffix := "-" + strings.ToLower(k)
		switch k {
		case "secret":
			if g.mode == "provided" {
				continue
			}
		case "service":
			name := g.dnsName(maxLen, true)
			g.namesService = name
			m[k] = name
			continue
		}
		name := g.subdomain(maxLen-len(suffix)) + suffix
		if rbacName(k) && g.chance(0.2) && len(name)+5 <= maxLen {
			name = "acme:" + name
		}
		m[k] = name
	}
	return m
}

func rbacName(key string) bool {
	switch key {
	case "clusterRole", "clusterRoleBinding", "authDelegator", "authReader", "viewRole", "editRole":
		return true
	}
	return false
}

func (g *generator) serviceName(s *schemaNode) any {
	if g.namesService != "" {
		if g.chance(0.5) {
			return g.namesService
		}
		return omit
	}
	return g.dnsName(*s.MaxLength, true)
}

var labelKeys = []string{"team", "environment", "tier", "app.kubernetes.io/part-of", "app.kubernetes.io/version",
	"app.kubernetes.io/instance", "example.com/cost-center", "kustomize.toolkit.fluxcd.io/name", "owner",
	"security.example.com/pci", "release", "region"}

// YAML 1.1 reads these as booleans, numbers, null or timestamps; all are valid label values.
var ambiguousValues = []string{"y", "n", "Y", "yes", "no", "on", "off", "true", "False", "null", "1.0", "010",
	"0x1F", "1e3", "2024-01-01", "NaN", "0o17", "1_000", "0b101"}

func (g *generator) labels(s *schemaNode, what string) any {
	n := 1 + g.r.IntN(3)
	switch x := g.r.Float64(); {
	case x < 0.1 && s.MaxProperties != nil:
		n = *s.MaxProperties
		g.feature(what + "-max")
	case x < 0.35:
		n = 4 + g.r.IntN(12)
	}
	// At most one key of the longest form, and one invalid value, in a few maps.
	longest, invalid := -1, -1
	if g.chance(0.1) {
		longest = g.r.IntN(n)
		g.feature(what + "-longest-key")
	}
	if g.chance(0.04) {
		invalid = g.r.IntN(n)
		g.feature(what + "-invalid-value")
	}
	m := map[string]any{}
	for i := range n {
		k := pick(g, labelKeys...)
		switch {
		case i == longest:
			// A 253-character prefix and a 63-character name.
			prefix := strings.Repeat("p", 50) + "." + strings.Repeat("q", 50) + "." + strings.Repeat("r", 50) + "." + strings.Repeat("s", 50) + "." + strings.Repeat("t", 49)
			k = prefix + "/" + strings.Repeat("n", 63)
		case m[k] != nil:
			k = fmt.Sprintf("%s-%d", k, i)
		}
		var v string
		switch x := g.r.Float64(); {
		case i == invalid:
			v = strings.Repeat("x", 64) // one too long
		case x < 0.5:
			v = pick(g, "platform", "prod", "staging", "v0.8.0", "team-a", "frontend", "pci-dss", "eu-west-1")
		case x < 0.7:
			v = pick(g, ambiguousValues...)
			g.feature(what + "-yaml11-value")
		case x < 0.8:
			v = ""
		case x < 0.9:
			v = "v" + strings.Repeat("1.2-3_4", 9)[:61] + "z" // 63 characters
		default:
			v = g.dnsName(63, true)
		}
		m[k] = v
	}
	return m
}

var annotationKeys = []string{"owner", "docs", "description", "argocd.argoproj.io/sync-options", "example.com/runbook",
	"prometheus.io/scrape", "contact", "fluxcd.io/ignore", "checksum/config", "example.com/json",
	"cert-manager.io/issue-temporary-certificate"}

// annotations: mostly a few realistic ones; with big, sometimes a total near, at or
// over the API server's 256 KiB limit (the function copies commonAnnotations onto
// every object and adds its own).
func (g *generator) annotations(s *schemaNode, what string, big bool) any {
	m := map[string]any{}
	add := func(k, v string) {
		if _, dup := m[k]; dup {
			k = fmt.Sprintf("%s-%d", k, len(m))
		}
		m[k] = v
	}
	x := g.r.Float64()
	switch {
	case big && x < 0.15:
		const limit = 256 << 10
		total := pick(g, 128<<10, 200<<10, 250<<10, limit-2048, limit-300, limit-64, limit, limit+1, 260<<10, 300<<10, 600<<10)
		g.feature(fmt.Sprintf("%s-total-%dB", what, total))
		parts := 1 + g.r.IntN(4)
		for i := range parts {
			k := fmt.Sprintf("example.com/blob-%d", i)
			size := total/parts - len(k)
			if i == parts-1 {
				size = total - (parts-1)*(total/parts) - len(k)
			}
			add(k, filler(g, size))
		}
		return m
	case x < 0.3 && s.MaxProperties != nil:
		n := 10 + g.r.IntN(*s.MaxProperties-9)
		if n == *s.MaxProperties {
			g.feature(what + "-max")
		}
		for i := range n {
			add(fmt.Sprintf("example.com/note-%d", i), filler(g, g.r.IntN(2048)))
		}
		return m
	}
	for range 1 + g.r.IntN(4) {
		k := pick(g, annotationKeys...)
		var v string
		switch k {
		case "docs", "example.com/runbook":
			v = "https://wiki.example.com/runbooks/" + g.name
		case "description":
			v = "Serves " + g.name + ".\nOwned by the platform team.\n\tIndented line; ünïcödé — ok\n"
		case "example.com/json":
			v = `{"replicas": 2, "enabled": true, "list": [1, 2, 3]}`
		case "prometheus.io/scrape", "fluxcd.io/ignore":
			v = pick(g, "true", "false", "yes", "on", "y")
		default:
			v = pick(g, "team-a@example.com", "Prune=false", "sha256:0d3f", "", "  leading and trailing spaces  ", "null", "~", ".inf", "1:20")
		}
		add(k, v)
	}
	return m
}

// filler is n bytes of printable text (n ≥ 0), some of it multi-byte.
func filler(g *generator, n int) string {
	if n <= 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(n)
	words := []string{"lorem ", "ipsum ", "dolor ", "sit ", "amet, ", "ünïcödé ", "日本 ", "\n", "{\"k\": [1, 2]} "}
	for b.Len() < n {
		w := pick(g, words...)
		if b.Len()+len(w) > n {
			w = strings.Repeat("x", n-b.Len())
		}
		b.WriteString(w)
	}
	return b.String()
}

func (g *generator) workloadIdentity(*schemaNode) any {
	return pick[any](g,
		map[string]any{"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/" + g.name},
		map[string]any{"iam.gke.io/gcp-service-account": g.name + "@project-id.iam.gserviceaccount.com"},
		map[string]any{"azure.workload.identity/client-id": "00000000-0000-0000-0000-000000000000"},
		map[string]any{"kubernetes.io/enforce-mountable-secrets": "true"},
	)
}

var images = []string{
	"registry.k8s.io/e2e-test-images/sample-apiserver:1.29.2",
	"registry.k8s.io/metrics-server/metrics-server:v0.8.0",
	"registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0",
	"ghcr.io/example/apiserver@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	"example.com:5000/team/wardle-apiserver:v1.2.3",
	"localhost/apiserver",
}

func (g *generator) image(s *schemaNode) any {
	if g.chance(0.03) {
		img := "registry.example.com/" + strings.Repeat("deep/", 40) + "apiserver:v1"
		if s.MaxLength != nil && len(img) > *s.MaxLength {
			img = img[:*s.MaxLength]
		}
		return img
	}
	return pick(g, images...)
}

func (g *generator) command(*schemaNode) any {
	return pick[any](g, []any{"/apiserver"}, []any{"/metrics-server"}, []any{"/bin/sh", "-c", "exec /adapter \"$@\"", "--"})
}

func (g *generator) args(*schemaNode) any {
	pool := []string{"--etcd-servers=http://etcd:2379", "--v=2", "--kubelet-insecure-tls",
		"--kubelet-preferred-address-types=InternalIP", "--metric-resolution=15s", "--cert-dir=/tmp",
		"--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics", "--logtostderr=true",
		"--config=/etc/adapter/config.yaml", "--lister-kubeconfig="}
	var list []any
	for _, a := range pool {
		if g.chance(0.25) {
			list = append(list, a)
		}
	}
	if len(list) == 0 {
		return omit
	}
	return list
}

func (g *generator) flags(s *schemaNode) any {
	m := map[string]any{}
	alternatives := map[string][]string{
		"securePort":        {"--secure-port", "--https-port", ""},
		"tlsCertFile":       {"--tls-cert-file", "--cert-file", ""},
		"tlsPrivateKeyFile": {"--tls-private-key-file", "--key-file", ""},
		"tlsMinVersion":     {"--tls-min-version", ""},
		"tlsCipherSuites":   {"--tls-cipher-suites", ""},
	}
	for _, k := range sortedKeys(s.Properties) {
		if alt, ok := alternatives[k]; ok && g.chance(0.5) {
			m[k] = pick(g, alt...)
		}
	}
	return m
}

// resources are requests and limits: mostly sensible, sometimes a request above its
// limit, or a resource Kubernetes treats specially (extended, hugepages, a name that
// is neither standard nor qualified).
func (g *generator) containerResources(what string) map[string]any {
	req, lim := map[string]any{}, map[string]any{}
	cpu := pick(g, "10m", "50m", "100m", "250m", "0.5", "1", "2")
	mem := pick(g, "32Mi", "64Mi", "128Mi", "256Mi", "512M", "1Gi")
	switch x := g.r.Float64(); {
	case x < 0.3:
		req["cpu"], req["memory"] = cpu, mem
	case x < 0.6:
		req["cpu"], req["memory"], lim["memory"] = cpu, mem, pick(g, "1Gi", "2Gi")
	case x < 0.75:
		lim["cpu"], lim["memory"] = "1", "1Gi"
	case x < 0.8:
		req["cpu"], req["memory"], req["ephemeral-storage"] = cpu, mem, "1Gi"
		lim["ephemeral-storage"] = "2Gi"
	case x < 0.88:
		// A request above its limit.
		req["cpu"], req["memory"] = "500m", "512Mi"
		lim["cpu"], lim["memory"] = pick(g, "250m", "1"), pick(g, "256Mi", "1Gi")
		if lim["cpu"] == "1" && lim["memory"] == "1Gi" {
			lim["memory"] = "500Mi"
		}
		g.feature(what + "-request-above-limit")
	case x < 0.91:
		req["example.com/widget"] = "1"
		g.feature(what + "-extended-resource-without-limit")
	case x < 0.94:
		req["nvidia.com/gpu"], lim["nvidia.com/gpu"] = "1", "1"
		req["cpu"] = cpu
	case x < 0.96:
		req["hugepages-2Mi"], lim["hugepages-2Mi"], req["memory"], lim["memory"] = "64Mi", "64Mi", "128Mi", "128Mi"
	case x < 0.98:
		req["gpu"] = "1"
		g.feature(what + "-nonstandard-resource-name")
	default:
		req["cpu"], req["memory"] = pick(g, "0.1", "1000m", "2e0"), pick(g, "0.5Gi", "1e9", "128974848") // unusual spellings of valid quantities
	}
	m := map[string]any{}
	if len(req) > 0 {
		m["requests"] = req
	}
	if len(lim) > 0 {
		m["limits"] = lim
	}
	return m
}

var extraRulePool = []map[string]any{
	{"apiGroups": []any{""}, "resources": []any{"nodes/metrics"}, "verbs": []any{"get"}},
	{"apiGroups": []any{""}, "resources": []any{"pods", "nodes", "namespaces", "configmaps"}, "verbs": []any{"get", "list", "watch"}},
	{"apiGroups": []any{"admissionregistration.k8s.io"}, "resources": []any{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}, "verbs": []any{"get", "list", "watch"}},
	{"apiGroups": []any{"flowcontrol.apiserver.k8s.io"}, "resources": []any{"prioritylevelconfigurations", "flowschemas"}, "verbs": []any{"list", "watch"}},
	{"nonResourceURLs": []any{"/metrics", "/healthz"}, "verbs": []any{"get"}},
	{"apiGroups": []any{"coordination.k8s.io"}, "resources": []any{"leases"}, "resourceNames": []any{"apiserver-leader"}, "verbs": []any{"get", "update", "patch"}},
	{"apiGroups": []any{"custom.metrics.k8s.io", "external.metrics.k8s.io"}, "resources": []any{"*"}, "verbs": []any{"get", "list"}},
}

func (g *generator) extraRules(_ *schemaNode) any {
	var list []any
	for range 1 + g.r.IntN(3) {
		list = append(list, pick(g, extraRulePool...))
	}
	return list
}

func (g *generator) modeValue() any {
	if g.mode == "generate" && g.chance(0.5) {
		return omit // the default
	}
	return g.mode
}

// certificate walks spec.certificate from its schema, then sets the durations that
// depend on each other.
func (g *generator) certificate(s *schemaNode) any {
	cert := g.generic(".spec.certificate", s).(map[string]any)
	if g.validity != "" || g.chance(0.3) {
		g.certificateTimes(cert)
	}
	return cert
}

func (g *generator) validityValue(*schemaNode) any {
	if g.validity == "" {
		return omit
	}
	return g.validity
}

// certificateTimes sets validity, renewBefore and overlap so they hold together:
// renewBefore < validity, overlap < renewBefore.
func (g *generator) certificateTimes(cert map[string]any) {
	validity := 8760 * time.Hour
	if g.validity != "" {
		validity, _ = time.ParseDuration(g.validity)
	}
	renew := 720 * time.Hour
	if validity <= renew || g.chance(0.5) {
		renew = (validity * time.Duration(pick(g, 1, 2, 3, 5))) / 12
		renew = renew.Round(time.Minute)
		cert["renewBefore"] = minutes(renew)
	}
	if g.mode == "cert-manager" && g.chance(0.08) {
		// Under cert-manager's 5m minimum; the function's own rules allow it.
		renew = time.Duration(pick(g, 1, 4)) * time.Minute
		cert["renewBefore"] = minutes(renew)
		g.feature("renewBefore-under-5m")
	}
	if renew <= 24*time.Hour || g.chance(0.3) {
		cert["overlap"] = fmt.Sprintf("%ds", int64((renew/time.Duration(pick(g, 2, 3, 10)))/time.Second))
	}
}

func minutes(d time.Duration) string { return fmt.Sprintf("%dm", int64(d/time.Minute)) }

func (g *generator) keyAlgorithm(s *schemaNode) any {
	if g.mode == "openshift" || g.mode == "provided" {
		return omit
	}
	// RSA-4096 keys take seconds each; keep them rare so the run stays short.
	return g.weighted(s.Enum, map[string]float64{"ECDSA-P256": 6, "ECDSA-P384": 2, "Ed25519": 2, "RSA-2048": 1, "RSA-3072": 0.3, "RSA-4096": 0.15})
}

func (g *generator) secretFile(*schemaNode) any {
	if g.mode != "generate" {
		return omit
	}
	return "secrets/" + g.name + "-serving-cert.yaml"
}

func (g *generator) provided(s *schemaNode) any {
	if g.mode != "provided" {
		return omit
	}
	m := map[string]any{"secretName": g.subdomain(*s.Properties["secretName"].MaxLength)}
	if g.chance(0.3) {
		m["caFile"] = oracleCAFile
	} else {
		m["caBundle"] = g.caPEM
	}
	return m
}

// oracleCAFile is the CA file mode provided may name; the render's working directory holds it.
const oracleCAFile = "ca/ca.crt"

func (g *generator) certManager(s *schemaNode) any {
	if g.mode != "cert-manager" {
		return omit
	}
	m := map[string]any{}
	if g.chance(0.5) {
		g.feature("issuerRef")
		ref := map[string]any{"name": pick(g, "letsencrypt-prod", "vault-issuer", "ca-issuer", "corp-pki")}
		if g.chance(0.6) {
			ref["kind"] = g.weighted(s.Properties["issuerRef"].Properties["kind"].Enum, nil)
		}
		if g.chance(0.3) {
			ref["group"] = pick(g, "cert-manager.io", "awspca.cert-manager.io")
		}
		m["issuerRef"] = ref
	}
	if g.chance(0.4) {
		m["caDuration"] = pick(g, "87600h", "43800h", "175200h")
	}
	return m
}

func (g *generator) networkPolicy(s *schemaNode) any {
	if !g.policy {
		if g.chance(0.1) {
			return map[string]any{"enabled": false}
		}
		return omit
	}
	g.feature("networkPolicy")
	m := map[string]any{"enabled": true}
	if g.chance(0.5) {
		m["apiServerCIDRs"] = pick[any](g, []any{"10.0.0.0/24"}, []any{"192.168.10.5/32", "192.168.10.6/32"},
			[]any{"fd00:10::/64"}, []any{"172.16.0.0/12", "fd00::/8"})
		if g.chance(0.1) {
			m["apiServerCIDRs"] = []any{"10.0.0.1/24"} // host bits set
			g.feature("noncanonical-cidr")
		}
	}
	if g.chance(0.3) {
		m["apiServerPorts"] = pick[any](g, []any{int64(6443)}, []any{int64(443), int64(6443)}, []any{int64(1), int64(65535)})
	}
	if g.chance(0.3) {
		m["allowKonnectivityAgents"] = true
		g.feature("konnectivity")
	}
	if g.chance(0.5) {
		m["extraIngress"] = g.peerRules("from", ingressPool, *s.Properties["extraIngress"].MaxItems)
	}
	if g.chance(0.5) {
		m["extraEgress"] = g.peerRules("to", egressPool, *s.Properties["extraEgress"].MaxItems)
	}
	return m
}

// hostNetwork is rare, as in clusters: mostly on a port clear of the node's agents,
// sometimes on the kubelet's (the default), which the function refuses.
func (g *generator) hostNetwork(*schemaNode) any {
	if !g.chance(0.06) {
		return omit
	}
	g.feature("hostNetwork")
	return true
}

// serverTLS is a compliance setting: TLS 1.3 only, or TLS 1.2 with a suite list, now
// and then with an insecure suite or a suite for the other key type.
func (g *generator) serverTLS(*schemaNode) any {
	switch x := g.r.Float64(); {
	case x < 0.8:
		return omit
	case x < 0.86:
		g.feature("tls13")
		return map[string]any{"minVersion": "VersionTLS13"}
	case x < 0.96:
		g.feature("tls-suites")
		return map[string]any{"minVersion": "VersionTLS12", "cipherSuites": []any{
			"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"}}
	default:
		g.feature("tls-insecure-suite")
		return map[string]any{"cipherSuites": []any{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", pick(g, "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA")}}
	}
}

// serverMetrics: a ServiceMonitor on the secure port, or a separate metrics port.
func (g *generator) serverMetrics(*schemaNode) any {
	switch x := g.r.Float64(); {
	case x < 0.75:
		return omit
	case x < 0.88:
		g.feature("serviceMonitor")
		return map[string]any{"serviceMonitor": map[string]any{"enabled": true, "interval": pick(g, "30s", "1m", "15s")}}
	case x < 0.95:
		g.feature("metrics-port")
		return map[string]any{"port": int64(pick(g, 8080, 9090, 8443)), "serviceMonitor": map[string]any{"enabled": true}}
	default:
		return map[string]any{"port": int64(8080), "serviceMonitor": map[string]any{"enabled": false}}
	}
}

var ingressPool = []map[string]any{
	{"from": []any{map[string]any{
		"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "monitoring"}},
		"podSelector":       map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "prometheus"}},
	}}, "ports": []any{map[string]any{"protocol": "TCP", "port": int64(8443)}}},
	{"from": []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.0.0.0/8", "except": []any{"10.96.0.0/12"}}}}},
	{"ports": []any{map[string]any{"port": "https"}}},
	{"from": []any{map[string]any{"podSelector": map[string]any{"matchExpressions": []any{
		map[string]any{"key": "app", "operator": "In", "values": []any{"a", "b"}},
		map[string]any{"key": "tier", "operator": "DoesNotExist"},
	}}}}},
	{"ports": []any{map[string]any{"protocol": "TCP", "port": int64(30000), "endPort": int64(32767)}}},
}

var egressPool = []map[string]any{
	{"to": []any{map[string]any{
		"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "kube-system"}},
		"podSelector":       map[string]any{"matchLabels": map[string]any{"k8s-app": "kube-dns"}},
	}}, "ports": []any{map[string]any{"protocol": "UDP", "port": int64(53)}, map[string]any{"protocol": "TCP", "port": int64(53)}}},
	{"ports": []any{map[string]any{"protocol": "TCP", "port": int64(10250)}}},
	{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "0.0.0.0/0", "except": []any{"169.254.169.254/32"}}}}},
	{"to": []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app": "etcd"}}}}, "ports": []any{map[string]any{"port": int64(2379)}}},
	{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "::/0"}}}},
}

// peerRules picks rules from pool and now and then one whose peers Kubernetes refuses.
func (g *generator) peerRules(dir string, pool []map[string]any, maxItems int) []any {
	var list []any
	for range 1 + g.r.IntN(min(3, maxItems)) {
		list = append(list, pick(g, pool...))
	}
	var bad map[string]any
	switch x := g.r.Float64(); {
	case x < 0.04:
		bad = map[string]any{dir: []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.0.0.0/16", "except": []any{"192.168.0.0/24"}}}}}
		g.feature("peer-except-outside-cidr")
	case x < 0.08:
		bad = map[string]any{dir: []any{map[string]any{"podSelector": map[string]any{"matchExpressions": []any{
			map[string]any{"key": "app", "operator": "Exists", "values": []any{"x"}}}}}}}
		g.feature("peer-exists-with-values")
	case x < 0.11:
		bad = map[string]any{dir: []any{map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"bad key!": "x"}}}}}
		g.feature("peer-bad-selector-key")
	case x < 0.14:
		bad = map[string]any{dir: []any{map[string]any{}}}
		g.feature("peer-empty")
	case x < 0.17:
		bad = map[string]any{dir: []any{map[string]any{"podSelector": map[string]any{"matchExpressions": []any{
			map[string]any{"key": "app", "operator": "Equals", "values": []any{"x"}}}}}}}
		g.feature("peer-bad-operator")
	}
	if bad != nil {
		list = append(list, bad)
	}
	return list
}

// containerName keeps an adopted installation's container name now and then; rarely
// one that is not a DNS label, which the function refuses.
func (g *generator) containerName(*schemaNode) any {
	switch x := g.r.Float64(); {
	case x < 0.85:
		return omit
	case x < 0.98:
		g.feature("containerName")
		g.serverContainer = pick(g, "metrics-server", "prometheus-adapter", "apiserver", "server")
		return g.serverContainer
	default:
		return "Metrics_Server"
	}
}

// selectorLabels are an adopted Deployment's selector: upstream manifests' k8s-app, a
// chart's name and instance labels, or the function's own spelled out.
func (g *generator) selectorLabels(*schemaNode) any {
	if !g.chance(0.15) {
		return omit
	}
	g.feature("selectorLabels")
	return pick[any](g,
		map[string]any{"k8s-app": g.name},
		map[string]any{"app.kubernetes.io/name": g.name, "app.kubernetes.io/instance": g.name},
		map[string]any{"app.kubernetes.io/name": g.name, "app.kubernetes.io/component": "apiserver"})
}

// baseRules is None for servers such as metrics-server, whose rules are all extraRules.
func (g *generator) baseRules(*schemaNode) any {
	switch x := g.r.Float64(); {
	case x < 0.85:
		return omit
	case x < 0.95:
		g.feature("baseRules-none")
		return "None"
	default:
		return "Default"
	}
}

// podDisruptionBudget: the budgets charts offer, as numbers and percentages; some
// allow no disruption with the replicas drawn, which the function refuses.
func (g *generator) podDisruptionBudget(*schemaNode) any {
	if !g.chance(0.2) {
		return omit
	}
	g.feature("podDisruptionBudget")
	return pick[any](g,
		map[string]any{"maxUnavailable": int64(1)},
		map[string]any{"minAvailable": int64(1)},
		map[string]any{"maxUnavailable": "25%"},
		map[string]any{"minAvailable": "50%"},
		map[string]any{"minAvailable": int64(2)})
}

// shutdownDelay is a whole number of seconds as people write it, 0s (no preStop hook)
// included.
func (g *generator) shutdownDelay(*schemaNode) any {
	if !g.chance(0.2) {
		return omit
	}
	g.feature("shutdownDelay")
	return pick(g, "0s", "5s", "10s", "15s", "1m")
}

func (g *generator) revisionHistoryLimit(s *schemaNode) any {
	if !g.chance(0.15) {
		return omit
	}
	return g.intAt(s, 3, 0, 10)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// podTemplate is a partial PodTemplateSpec as users write them: scheduling, volumes,
// a changed server container, sidecars and init containers with their own resources;
// now and then an edge Kubernetes refuses once merged (a privileged container or added
// capabilities next to the function's allowPrivilegeEscalation: false, the image
// removed with null).
func (g *generator) podTemplate(*schemaNode) any {
	g.feature("podTemplate")
	spec := map[string]any{}
	tmpl := map[string]any{"spec": spec}
	if g.chance(0.4) {
		meta := map[string]any{}
		if g.chance(0.6) {
			meta["annotations"] = map[string]any{"prometheus.io/scrape": "true", "prometheus.io/port": "8443",
				"cluster-autoscaler.kubernetes.io/safe-to-evict": "true"}
		}
		if g.chance(0.6) {
			meta["labels"] = map[string]any{"sidecar.istio.io/inject": "false", "example.com/team": "platform"}
		}
		tmpl["metadata"] = meta
	}
	if g.chance(0.3) {
		spec["nodeSelector"] = pick[any](g, map[string]any{"kubernetes.io/os": "linux"},
			map[string]any{"node-role.kubernetes.io/control-plane": ""})
	}
	if g.chance(0.3) {
		spec["tolerations"] = []any{map[string]any{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"},
			map[string]any{"key": "dedicated", "operator": "Equal", "value": "platform", "effect": "NoExecute", "tolerationSeconds": int64(300)}}
	}
	if g.chance(0.25) {
		spec["affinity"] = map[string]any{"podAntiAffinity": map[string]any{"preferredDuringSchedulingIgnoredDuringExecution": []any{
			map[string]any{"weight": int64(100), "podAffinityTerm": map[string]any{
				"topologyKey":   "kubernetes.io/hostname",
				"labelSelector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": g.name}},
			}}}}}
	}
	if g.chance(0.2) {
		spec["topologySpreadConstraints"] = []any{map[string]any{"maxSkew": int64(1), "topologyKey": "topology.kubernetes.io/zone",
			"whenUnsatisfiable": "ScheduleAnyway", "labelSelector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": g.name}}}}
	}
	if g.chance(0.3) {
		spec["securityContext"] = map[string]any{"fsGroup": int64(65532), "runAsNonRoot": true,
			"seccompProfile": map[string]any{"type": "RuntimeDefault"}}
	}
	if g.chance(0.2) {
		spec["terminationGracePeriodSeconds"] = int64(pick(g, 30, 60, 5))
	}
	volumes := []any{}
	if g.chance(0.4) {
		volumes = append(volumes, map[string]any{"name": "tmp", "emptyDir": map[string]any{"sizeLimit": "64Mi"}},
			map[string]any{"name": "config", "configMap": map[string]any{"name": g.name + "-config", "optional": true}})
		spec["volumes"] = volumes
	}

	// The server container, merged by its name.
	server := map[string]any{"name": cmp.Or(g.serverContainer, "apiserver")}
	if len(volumes) > 0 {
		server["volumeMounts"] = []any{map[string]any{"name": "tmp", "mountPath": "/tmp"},
			map[string]any{"name": "config", "mountPath": "/etc/adapter", "readOnly": true}}
	}
	if g.chance(0.3) {
		server["env"] = []any{
			map[string]any{"name": "GOMAXPROCS", "valueFrom": map[string]any{"resourceFieldRef": map[string]any{"resource": "limits.cpu", "divisor": "1"}}},
			map[string]any{"name": "POD_NAMESPACE", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "metadata.namespace"}}},
			map[string]any{"name": "LOG_LEVEL", "value": pick(g, "info", "debug", "y", "on")},
		}
	}
	if g.chance(0.15) {
		server["resources"] = g.containerResources("server-container")
	}
	switch x := g.r.Float64(); {
	case x < 0.03:
		server["securityContext"] = map[string]any{"privileged": true}
		g.feature("server-privileged")
	case x < 0.06:
		server["securityContext"] = map[string]any{"capabilities": map[string]any{"add": []any{"NET_BIND_SERVICE"}}}
		g.feature("server-adds-capabilities")
	case x < 0.09:
		server["image"] = nil
		g.feature("server-image-null")
	}
	containers := []any{server}

	for i := range g.r.IntN(3) {
		sidecar := pick(g, sidecars...)(g)
		sidecar["name"] = fmt.Sprintf("%s-%d", sidecar["name"], i)
		if g.chance(0.04) {
			sidecar["securityContext"] = map[string]any{"privileged": true}
			g.feature("sidecar-privileged")
		}
		containers = append(containers, sidecar)
		g.feature("sidecar")
	}
	spec["containers"] = containers

	if g.chance(0.25) {
		var inits []any
		for i := range 1 + g.r.IntN(2) {
			c := map[string]any{"name": fmt.Sprintf("init-%d", i), "image": "busybox:1.36",
				"command": []any{"sh", "-c", "until nc -z etcd 2379; do sleep 1; done"}}
			if g.chance(0.4) {
				c["resources"] = g.containerResources("init-container")
			}
			if g.chance(0.3) {
				// A native sidecar (restartPolicy Always in initContainers).
				c["restartPolicy"] = "Always"
				c["command"] = []any{"/bin/proxy", "--port=15001"}
				g.feature("native-sidecar")
			}
			inits = append(inits, c)
		}
		spec["initContainers"] = inits
		g.feature("initContainers")
	}
	return tmpl
}

var sidecars = []func(g *generator) map[string]any{
	func(g *generator) map[string]any {
		return map[string]any{"name": "kube-rbac-proxy", "image": "quay.io/brancz/kube-rbac-proxy:v0.18.0",
			"args":      []any{"--secure-listen-address=0.0.0.0:9443", "--upstream=http://127.0.0.1:8080/"},
			"ports":     []any{map[string]any{"name": "metrics", "containerPort": int64(9443), "protocol": "TCP"}},
			"resources": g.containerResources("sidecar")}
	},
	func(g *generator) map[string]any {
		return map[string]any{"name": "log-shipper", "image": "fluent/fluent-bit:3.0",
			"resources": g.containerResources("sidecar"),
			"env":       []any{map[string]any{"name": "FLUENT_ELASTICSEARCH_HOST", "value": "elasticsearch.logging.svc"}}}
	},
	func(g *generator) map[string]any {
		return map[string]any{"name": "etcd", "image": "registry.k8s.io/etcd:3.5.15-0",
			"command":   []any{"etcd", "--data-dir=/var/lib/etcd"},
			"ports":     []any{map[string]any{"name": "client", "containerPort": int64(2379)}},
			"resources": g.containerResources("sidecar")}
	},
}
