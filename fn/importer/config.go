package importer

import (
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/keys"
)

// maxConfigName is the longest metadata.name a config takes.
const maxConfigName = 40

// draft is the config being built and what building it noted for the report.
type draft struct {
	api      *config.AggregatedAPI
	notes    []Change
	dropped  []string // server args the function owns, left out
	tlsFiles []string // the values of the dropped TLS file flags
}

func (d *draft) note(object, path, detail string) {
	d.notes = append(d.notes, Change{Object: object, Path: path, Detail: detail})
}

// chooseName is the config's metadata.name: the pods' app.kubernetes.io/name (so the
// label keeps its value), else the Deployment's or the Service's name, whichever is a
// DNS-1123 label of at most 40 characters.
func chooseName(in *installation, override string) (string, error) {
	ok := func(s string) bool {
		return s != "" && len(s) <= maxConfigName && len(validation.IsDNS1123Label(s)) == 0
	}
	if override != "" {
		if !ok(override) {
			return "", fmt.Errorf("--name %q: must be a DNS-1123 label of at most %d characters", override, maxConfigName)
		}
		return override, nil
	}
	for _, c := range []string{in.deployment.v.Spec.Template.Labels[keys.NameLabel], in.deployment.name, in.service.name} {
		if ok(c) {
			return c, nil
		}
	}
	return "", fmt.Errorf("%s: neither its app.kubernetes.io/name label, nor its name, nor the Service's name %q is a DNS-1123 label of at most %d characters: give one with --name", in.deployment.where(), in.service.name, maxConfigName)
}

// build maps the installation onto a config, without the pod template (see podTemplate).
func build(in *installation, name string) (*draft, error) {
	d := &draft{api: &config.AggregatedAPI{
		TypeMeta:   metav1.TypeMeta{APIVersion: config.APIVersion, Kind: config.Kind},
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}}
	s := &d.api.Spec
	ns := in.service.v.Namespace
	if ns == "" {
		ns = in.apiServices[0].v.Spec.Service.Namespace
	}
	if ns != name {
		s.Namespace = ns
	}
	if in.namespace == nil && !config.IsSystemNamespace(ns) {
		// The installation does not create its namespace, so neither does the render: a
		// pruning GitOps tool would otherwise own (and could delete) a shared namespace.
		s.CreateNamespace = new(bool)
	}
	d.groups(in)
	d.names(in, name)
	d.labels(in)
	if err := d.server(in); err != nil {
		return nil, err
	}
	d.rbac(in)
	d.networkPolicy(in)
	d.disruption(in)
	return d, nil
}

// groups maps the APIServices (and the users' roles) onto the groups and versions.
func (d *draft) groups(in *installation) {
	byGroup := map[string]*config.APIGroup{}
	for _, a := range in.apiServices {
		sp := a.v.Spec
		g := byGroup[sp.Group]
		if g == nil {
			g = &config.APIGroup{Group: sp.Group, GroupPriorityMinimum: sp.GroupPriorityMinimum}
			byGroup[sp.Group] = g
		} else if sp.GroupPriorityMinimum != g.GroupPriorityMinimum {
			d.note(a.ref(), "spec.groupPriorityMinimum", fmt.Sprintf("%d becomes %d, the group's: aggapi gives every version of a group one", sp.GroupPriorityMinimum, g.GroupPriorityMinimum))
		}
		g.Versions = append(g.Versions, config.Version{Name: sp.Version, VersionPriority: sp.VersionPriority})
		if sp.InsecureSkipTLSVerify {
			d.note(a.ref(), "spec.insecureSkipTLSVerify", "true is dropped: the render sets spec.caBundle, so the aggregator verifies the server's certificate. A server-side apply leaves the field to its previous manager and the API server refuses it beside a caBundle: remove it right before applying (docs/cli.md#applying-the-render-over-the-installation)")
		} else if len(sp.CABundle) > 0 {
			d.note(a.ref(), "spec.caBundle", "replaced by the CA of the render's serving certificate")
		}
	}
	var groups []config.APIGroup
	for _, gname := range slices.Sorted(maps.Keys(byGroup)) {
		g := byGroup[gname]
		slices.SortFunc(g.Versions, func(a, b config.Version) int { return strings.Compare(a.Name, b.Name) })
		for i := range g.Versions {
			if g.Versions[i].VersionPriority == config.DefaultVersionPriority {
				g.Versions[i].VersionPriority = 0
			}
		}
		if g.GroupPriorityMinimum == config.DefaultGroupPriorityMinimum {
			g.GroupPriorityMinimum = 0
		}
		g.Resources, g.ReadOnly = userResources(in, gname)
		groups = append(groups, *g)
	}
	s := &d.api.Spec
	if len(groups) == 1 {
		g := groups[0]
		s.Group, s.Versions, s.GroupPriorityMinimum, s.Resources, s.ReadOnly = g.Group, g.Versions, g.GroupPriorityMinimum, g.Resources, g.ReadOnly
		return
	}
	s.Groups = groups
}

// userResources are the resources of group that the view role grants, and whether the
// group is read-only (no edit role grants writes on it).
func userResources(in *installation, group string) ([]string, bool) {
	if in.viewRole == nil {
		return nil, false
	}
	var res []string
	for _, r := range in.viewRole.v.Rules {
		if slices.Contains(r.APIGroups, group) {
			for _, x := range r.Resources {
				if !slices.Contains(res, x) {
					res = append(res, x)
				}
			}
		}
	}
	readOnly := true
	if in.editRole != nil {
		for _, r := range in.editRole.v.Rules {
			if slices.Contains(r.APIGroups, group) {
				readOnly = false
			}
		}
	}
	return res, readOnly
}

// names keeps the installation's object names where they differ from the derived ones.
func (d *draft) names(in *installation, name string) {
	s := &d.api.Spec
	var o config.ObjectNames
	or := func(v, def string) string {
		if v == def {
			return ""
		}
		return v
	}
	sa := in.deployment.v.Spec.Template.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	o.ServiceAccount = or(sa, name+"-apiserver")
	o.Deployment = or(in.deployment.name, name+"-apiserver")
	if in.service.name != name {
		s.Service.Name = in.service.name
	}
	s.Service.Port = in.servicePort.Port
	if len(in.serverRoles) > 0 {
		g := in.serverRoles[0]
		o.ClusterRole = or(g.role.name, name+"-apiserver")
		o.ClusterRoleBinding = or(g.binding.name, g.role.name)
	}
	if in.authDelegator != nil {
		o.AuthDelegator = or(in.authDelegator.name, name+"-auth-delegator")
	}
	if in.authReader != nil {
		o.AuthReader = or(in.authReader.name, name+"-auth-reader")
	}
	if in.viewRole != nil {
		o.ViewRole = or(in.viewRole.name, name+"-view")
	}
	if in.editRole != nil {
		o.EditRole = or(in.editRole.name, name+"-edit")
	}
	deployment := in.deployment.name
	if in.pdb != nil {
		o.PodDisruptionBudget = or(in.pdb.name, deployment)
	}
	if in.networkPolicy != nil {
		o.NetworkPolicy = or(in.networkPolicy.name, deployment)
	}
	if o != (config.ObjectNames{}) {
		s.Names = &o
	}
}

// adopted are the installation's objects the render replaces.
func (in *installation) adopted() []*Object {
	objs := []*Object{in.service.Object, in.deployment.Object}
	for _, a := range in.apiServices {
		objs = append(objs, a.Object)
	}
	if in.serviceAccount != nil {
		objs = append(objs, in.serviceAccount.Object)
	}
	// The first grant becomes the server's role; the others' rules join it.
	for _, g := range in.serverRoles[:min(1, len(in.serverRoles))] {
		objs = append(objs, g.binding.Object, g.role.Object)
	}
	for _, o := range []*Object{objOf(in.authDelegator), objOf(in.authReader), objOf(in.viewRole), objOf(in.editRole), objOf(in.pdb), objOf(in.networkPolicy)} {
		if o != nil {
			objs = append(objs, o)
		}
	}
	return objs
}

func objOf[T any](f *found[T]) *Object {
	if f == nil {
		return nil
	}
	return f.Object
}

// ignoredPrefixes are other tools' label and annotation prefixes, never copied; the
// function's own and kustomize's and kpt's bookkeeping are in fn/keys too.
var ignoredPrefixes = []string{keys.KubectlPrefix, keys.HelmPrefix, keys.DeploymentPrefix, keys.Prefix}

func ignored(k string) bool {
	return keys.IsToolAnnotation(k) || slices.ContainsFunc(ignoredPrefixes, func(p string) bool { return strings.HasPrefix(k, p) })
}

// labels keeps the labels and annotations every adopted object carries as commonLabels
// and commonAnnotations (less the function's own keys, which it sets itself).
func (d *draft) labels(in *installation) {
	objs := in.adopted()
	common := func(get func(*Object) map[string]string) map[string]string {
		var out map[string]string
		for i, o := range objs {
			m := get(o)
			if i == 0 {
				out = maps.Clone(m)
				continue
			}
			maps.DeleteFunc(out, func(k, v string) bool { w, ok := m[k]; return !ok || w != v })
		}
		maps.DeleteFunc(out, func(k, _ string) bool {
			return ignored(k) || slices.Contains(config.ReservedLabels, k) || strings.HasPrefix(k, aggregateLabel)
		})
		if len(out) == 0 {
			return nil
		}
		return out
	}
	s := &d.api.Spec
	s.CommonLabels = common(func(o *Object) map[string]string { return o.node.GetLabels() })
	s.CommonAnnotations = common(func(o *Object) map[string]string { return o.node.GetAnnotations() })
	if sa := in.serviceAccount; sa != nil {
		s.ServiceAccount.Annotations = extra(sa.v.Annotations, s.CommonAnnotations)
	}
	svc := in.service.v
	s.Service.Labels = extra(svc.Labels, s.CommonLabels)
	maps.DeleteFunc(s.Service.Labels, func(k, _ string) bool { return slices.Contains(config.ReservedLabels, k) })
	if len(s.Service.Labels) == 0 {
		s.Service.Labels = nil
	}
	s.Service.Annotations = extra(svc.Annotations, s.CommonAnnotations)
	for _, p := range svc.Spec.Ports {
		if p.Port != in.servicePort.Port {
			d.note(in.service.ref(), fmt.Sprintf("spec.ports[%s]", p.Name), fmt.Sprintf("port %d is not rendered: aggapi's Service has the one port the APIServices dial; keep a Service of your own for it", p.Port))
		}
	}
}

// extra is m less the keys common has and the tools' keys; nil when empty.
func extra(m, common map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if _, ok := common[k]; !ok && !ignored(k) {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// ownedFlags are the server flags the function sets itself (their defaults in
// spec.server.flags); the installation's values are dropped.
var ownedFlags = append([]string{config.DefaultSecurePortFlag, config.DefaultTLSCertFileFlag, config.DefaultTLSPrivateKeyFlag}, tlsFlags...)

// server maps the Deployment and its server container.
func (d *draft) server(in *installation) error {
	sv := &d.api.Spec.Server
	dep := in.deployment.v
	pod := dep.Spec.Template.Spec
	c := pod.Containers[in.container]
	where := fmt.Sprintf("%s: spec.template.spec.containers[%s]", in.deployment.where(), c.Name)
	if c.Image == "" {
		return fmt.Errorf("%s.image is empty", where)
	}
	sv.Image = c.Image
	if c.ImagePullPolicy != "" && string(c.ImagePullPolicy) != config.DefaultImagePullPolicy {
		sv.ImagePullPolicy = string(c.ImagePullPolicy)
	}
	if c.ImagePullPolicy == "" && (strings.HasSuffix(c.Image, ":latest") || !strings.Contains(path.Base(c.Image), ":")) {
		d.note(in.deployment.ref(), "spec.template.spec.containers["+c.Name+"].imagePullPolicy", "unset (Always for this image) becomes IfNotPresent; set spec.server.imagePullPolicy: Always to keep pulling")
	}
	port := in.containerPort.ContainerPort
	// The ports are the installation's, written even when they are aggapi's default:
	// a later default must not move an adopted server's port.
	sv.Port = port
	if dep.Spec.Replicas != nil && *dep.Spec.Replicas != config.DefaultReplicas {
		sv.Replicas = *dep.Spec.Replicas
	}
	sv.Command = c.Command
	sv.Args = d.args(in, c.Args, port)
	sv.Resources = &config.Resources{Requests: quantities(c.Resources.Requests), Limits: quantities(c.Resources.Limits)}
	if sv.Resources.Requests == nil && sv.Resources.Limits == nil {
		d.note(in.deployment.ref(), "spec.template.spec.containers["+c.Name+"].resources", "none, kept: without spec.server.resources aggapi requests cpu "+config.DefaultCPURequest+" and memory "+config.DefaultMemoryRequest)
	} else if maps.Equal(sv.Resources.Requests, map[string]string{"cpu": config.DefaultCPURequest, "memory": config.DefaultMemoryRequest}) && sv.Resources.Limits == nil {
		sv.Resources = nil
	}
	sv.PriorityClassName = pod.PriorityClassName
	// Host networking is a field of its own (it sets dnsPolicy ClusterFirstWithHostNet).
	sv.HostNetwork = pod.HostNetwork
	if pod.HostNetwork && pod.DNSPolicy != "" && pod.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
		d.note(in.deployment.ref(), "spec.template.spec.dnsPolicy", fmt.Sprintf("%s becomes %s, which spec.server.hostNetwork sets: the pods resolve cluster names", pod.DNSPolicy, corev1.DNSClusterFirstWithHostNet))
	}
	if c.Name != config.DefaultContainerName {
		sv.ContainerName = c.Name
	}
	probe := &config.AggregatedAPI{ObjectMeta: d.api.ObjectMeta}
	if sel := dep.Spec.Selector.MatchLabels; !maps.Equal(sel, probe.SelectorLabels()) {
		sv.SelectorLabels = sel
	}
	sv.RevisionHistoryLimit = dep.Spec.RevisionHistoryLimit
	return nil
}

// args are the container's args less the flags the function owns; a value of one of
// them that differs from what the render passes is noted.
func (d *draft) args(in *installation, args []string, port int32) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		flag, value, hasValue := strings.Cut(a, "=")
		flag = "--" + strings.TrimLeft(flag, "-")
		if !slices.Contains(ownedFlags, flag) {
			if flag == "--cert-dir" {
				d.note(in.deployment.ref(), "args", a+" is kept, and unused: with --tls-cert-file and --tls-private-key-file the server writes no self-signed certificate there")
			}
			out = append(out, a)
			continue
		}
		if !hasValue && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			i++
			value = args[i]
			a += " " + value
		}
		if slices.Contains(tlsFlags, flag) {
			d.tls(in, flag, value)
			continue
		}
		d.dropped = append(d.dropped, a)
		switch flag {
		case config.DefaultSecurePortFlag:
			if value != strconv.Itoa(int(port)) {
				d.note(in.deployment.ref(), "args", fmt.Sprintf("%s differs from the container port %d: the render passes %s=%d", a, port, flag, port))
			}
		default:
			d.tlsFiles = append(d.tlsFiles, value)
		}
	}
	return out
}

func quantities(l corev1.ResourceList) map[string]string {
	if len(l) == 0 {
		return nil
	}
	out := map[string]string{}
	for k, q := range l {
		out[string(k)] = q.String()
	}
	return out
}

// rbac maps the server's roles: extraRules beyond aggapi's base rules, or only the
// installation's rules (baseRules: None) when it grants less than the base set.
func (d *draft) rbac(in *installation) {
	var rules []rbacv1.PolicyRule
	for _, g := range in.serverRoles {
		rules = append(rules, g.role.v.Rules...)
	}
	base := baseRules()
	extra := rules
	if covers(rules, base) {
		extra = nil
		for _, r := range rules {
			if !covers(base, []rbacv1.PolicyRule{r}) {
				extra = append(extra, r)
			}
		}
	} else {
		d.api.Spec.Server.BaseRules = config.BaseRulesNone
	}
	for _, r := range extra {
		d.api.Spec.Server.ExtraRules = append(d.api.Spec.Server.ExtraRules, config.PolicyRule{
			Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources, ResourceNames: r.ResourceNames, NonResourceURLs: r.NonResourceURLs,
		})
	}
}

// covers reports whether rules grant every verb on every resource that want grants.
func covers(rules, want []rbacv1.PolicyRule) bool {
	has := func(list []string, v string) bool { return slices.Contains(list, v) || slices.Contains(list, "*") }
	for _, w := range want {
		if len(w.ResourceNames) > 0 || len(w.NonResourceURLs) > 0 {
			if !slices.ContainsFunc(rules, func(r rbacv1.PolicyRule) bool { return equalRule(r, w) }) {
				return false
			}
			continue
		}
		for _, g := range w.APIGroups {
			for _, res := range w.Resources {
				for _, v := range w.Verbs {
					if !slices.ContainsFunc(rules, func(r rbacv1.PolicyRule) bool {
						return len(r.ResourceNames) == 0 && has(r.APIGroups, g) && has(r.Resources, res) && has(r.Verbs, v)
					}) {
						return false
					}
				}
			}
		}
	}
	return true
}

func equalRule(a, b rbacv1.PolicyRule) bool {
	return slices.Equal(a.Verbs, b.Verbs) && slices.Equal(a.APIGroups, b.APIGroups) && slices.Equal(a.Resources, b.Resources) &&
		slices.Equal(a.ResourceNames, b.ResourceNames) && slices.Equal(a.NonResourceURLs, b.NonResourceURLs)
}

// networkPolicy keeps the installation's NetworkPolicy as aggapi's with its rules added:
// the render's policy admits at least what the installation's did.
func (d *draft) networkPolicy(in *installation) {
	np := in.networkPolicy
	if np == nil {
		return
	}
	out := &config.NetworkPolicy{Enabled: true}
	has := func(t string) bool {
		if len(np.v.Spec.PolicyTypes) == 0 {
			return t == "Ingress" || len(np.v.Spec.Egress) > 0
		}
		return slices.ContainsFunc(np.v.Spec.PolicyTypes, func(p networkingv1.PolicyType) bool { return string(p) == t })
	}
	raw := func(v any) runtime.RawExtension {
		b, _ := json.Marshal(v)
		return runtime.RawExtension{Raw: b}
	}
	if has("Ingress") {
		for _, r := range np.v.Spec.Ingress {
			out.ExtraIngress = append(out.ExtraIngress, raw(r))
		}
	} else {
		out.ExtraIngress = []runtime.RawExtension{{Raw: []byte("{}")}}
		d.note(np.ref(), "spec.policyTypes", "had no Ingress: the render's policy restricts both directions, so an allow-all ingress rule keeps ingress open")
	}
	if has("Egress") {
		for _, r := range np.v.Spec.Egress {
			out.ExtraEgress = append(out.ExtraEgress, raw(r))
		}
	} else {
		out.ExtraEgress = []runtime.RawExtension{{Raw: []byte("{}")}}
		d.note(np.ref(), "spec.policyTypes", "had no Egress: the render's policy restricts both directions, so an allow-all egress rule keeps egress open")
	}
	d.api.Spec.NetworkPolicy = out
}

// disruption maps the PodDisruptionBudget.
func (d *draft) disruption(in *installation) {
	if in.pdb == nil {
		return
	}
	budget := budgetOf(in.pdb.v)
	if budget == nil {
		return
	}
	if why := refusedBudget(budget, d.api.Spec.Server.Replicas); why != "" {
		// find adopts such a budget only with two replicas or more, where the render's
		// default takes the object over.
		d.note(in.pdb.ref(), "", "its budget is not adopted ("+why+"): the render's default, maxUnavailable: 1, replaces it")
		return
	}
	d.api.Spec.Server.PodDisruptionBudget = budget
}

// budgetOf is an installation's budget as config fields; nil when it sets neither.
func budgetOf(p *policyv1.PodDisruptionBudget) *config.PodDisruptionBudget {
	raw := func(v *intstr.IntOrString) *runtime.RawExtension {
		if v == nil {
			return nil
		}
		b, _ := json.Marshal(v)
		return &runtime.RawExtension{Raw: b}
	}
	b := &config.PodDisruptionBudget{MinAvailable: raw(p.Spec.MinAvailable), MaxUnavailable: raw(p.Spec.MaxUnavailable)}
	if b.MinAvailable == nil && b.MaxUnavailable == nil {
		return nil
	}
	return b
}

// refusedBudget is why the render would refuse budget with these replicas (one that
// allows no eviction blocks every drain), or "".
func refusedBudget(budget *config.PodDisruptionBudget, replicas int32) string {
	sv := config.Server{PodDisruptionBudget: budget, Replicas: max(replicas, config.DefaultReplicas)}
	if errs := config.DisruptionBudgetErrors(field.NewPath("spec", "server", "podDisruptionBudget"), sv); len(errs) > 0 {
		return errs[0].Detail
	}
	return ""
}
