package doctor

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// server is what serves one APIService, as the cluster shows it: the Service, the
// port the APIService dials, the Deployments and pods the Service selects, and the
// ready endpoint addresses.
type server struct {
	ref       Ref
	svc       *corev1.Service
	port      *corev1.ServicePort
	deps      []*appsv1.Deployment
	pods      []*corev1.Pod
	endpoints []endpoint
}

type endpoint struct {
	IP   string
	Port int32
	Pod  string
}

// findServer reads what serves ref; it reports nothing itself (the checks do).
func (d *Doctor) findServer(ctx context.Context, ref Ref) *server {
	srv := &server{ref: ref}
	svc, err := d.service(ctx, ref.Namespace, ref.Service)
	if err != nil {
		return srv
	}
	srv.svc = svc
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == ref.Port {
			srv.port = &svc.Spec.Ports[i]
		}
	}
	if len(svc.Spec.Selector) == 0 {
		return srv
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	if deps := d.deployments(ctx, ref.Namespace); deps.err == nil {
		for i := range deps.items {
			if sel.Matches(labels.Set(deps.items[i].Spec.Template.Labels)) {
				srv.deps = append(srv.deps, &deps.items[i])
			}
		}
	}
	if pods := d.pods(ctx, ref.Namespace); pods.err == nil {
		for i := range pods.items {
			if p := &pods.items[i]; p.DeletionTimestamp == nil && sel.Matches(labels.Set(p.Labels)) {
				srv.pods = append(srv.pods, p)
			}
		}
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return srv // no endpoints: the kube-apiserver resolves the name
	}
	if es := d.endpointSlices(ctx, ref.Namespace); es.err == nil && srv.port != nil {
		for _, s := range es.items {
			if s.Labels[discoveryv1.LabelServiceName] != ref.Service {
				continue
			}
			var port int32
			for _, p := range s.Ports {
				if p.Port != nil && (p.Name == nil && srv.port.Name == "" || p.Name != nil && *p.Name == srv.port.Name) {
					port = *p.Port
				}
			}
			if port == 0 {
				continue
			}
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && !*e.Conditions.Ready {
					continue
				}
				pod := ""
				if e.TargetRef != nil {
					pod = e.TargetRef.Name
				}
				for _, a := range e.Addresses {
					srv.endpoints = append(srv.endpoints, endpoint{IP: a, Port: port, Pod: pod})
				}
			}
		}
	}
	return srv
}

// network is what the diagnosis of an unreachable server needs.
func (d *Doctor) network(ctx context.Context, srv *server) Network {
	nw := Network{Endpoints: map[string]string{}, Platform: d.platform(ctx)}
	if srv.svc != nil && srv.svc.Spec.ClusterIP != corev1.ClusterIPNone {
		nw.ServiceIP = srv.svc.Spec.ClusterIP
	}
	if srv.svc != nil && srv.svc.Spec.Type == corev1.ServiceTypeExternalName {
		nw.ExternalName = srv.svc.Spec.ExternalName
	}
	for _, e := range srv.endpoints {
		nw.Endpoints[e.IP] = e.Pod
		nw.TargetPort = e.Port
	}
	if nw.TargetPort == 0 && srv.port != nil {
		nw.TargetPort = srv.resolveTargetPort()
	}
	return nw
}

// resolveTargetPort is the pod port the Service's port sends to, 0 when a name
// resolves to no container port.
func (srv *server) resolveTargetPort() int32 {
	tp := srv.port.TargetPort
	switch {
	case tp.Type == intstr.Int && tp.IntVal != 0:
		return tp.IntVal
	case tp.Type == intstr.Int:
		return srv.port.Port
	}
	for _, dep := range srv.deps {
		for _, c := range dep.Spec.Template.Spec.Containers {
			for _, p := range c.Ports {
				if p.Name == tp.StrVal {
					return p.ContainerPort
				}
			}
		}
	}
	return 0
}

// platform names the managed Kubernetes by the first node's labels, once per run.
func (d *Doctor) platform(ctx context.Context) string {
	if d.platformRead {
		return d.platformName
	}
	d.platformRead = true
	nodes, err := d.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1})
	if err == nil && len(nodes.Items) > 0 {
		d.platformName = platformOf(nodes.Items[0].Labels)
	}
	return d.platformName
}

// checkPorts: the Service has the port the APIService dials, and its targetPort is a
// port the server's containers declare and listen on (--secure-port).
func (d *Doctor) checkPorts(what string, srv *server) {
	if srv.svc == nil || srv.svc.Spec.Type == corev1.ServiceTypeExternalName {
		return
	}
	ref := srv.ref
	if srv.port == nil {
		var ports []string
		for _, p := range srv.svc.Spec.Ports {
			ports = append(ports, strconv.Itoa(int(p.Port)))
		}
		d.fail(CauseServicePortMissing, what, "make the APIService's spec.service.port one of the Service's ports (aggapi: spec.service.port) and re-apply both",
			"the APIService dials port %d, but Service %s has port(s) %s", ref.Port, ref.service(), strings.Join(ports, ", "))
		return
	}
	tp := srv.port.TargetPort
	for _, dep := range srv.deps {
		depName := "Deployment " + dep.Namespace + "/" + dep.Name
		var declared []string
		named, numbered := false, false
		for _, c := range dep.Spec.Template.Spec.Containers {
			for _, p := range c.Ports {
				declared = append(declared, fmt.Sprintf("%s %s:%d", c.Name, p.Name, p.ContainerPort))
				named = named || (tp.Type == intstr.String && p.Name == tp.StrVal)
				numbered = numbered || (tp.Type == intstr.Int && p.ContainerPort == srv.resolveTargetPort())
			}
		}
		if tp.Type == intstr.String && !named {
			d.fail(CauseTargetPortMismatch, what, fmt.Sprintf("name a container port %q in %s, or give the Service's targetPort as a number", tp.StrVal, depName),
				"Service %s port %d sends to targetPort %q, which no container of %s names (declared: %s): the Service has no endpoints",
				ref.service(), ref.Port, tp.StrVal, depName, orNone(declared))
			continue
		}
		want := srv.resolveTargetPort()
		if listen := securePort(dep.Spec.Template.Spec); listen != 0 && want != 0 && listen != want {
			d.fail(CauseTargetPortMismatch, what, fmt.Sprintf("make the Service's targetPort %d, or start the server with --secure-port=%d (aggapi: spec.server.port sets both)", listen, want),
				"Service %s port %d sends to pod port %d, but %s listens on --secure-port=%d", ref.service(), ref.Port, want, depName, listen)
			continue
		}
		if tp.Type == intstr.Int && len(declared) > 0 && !numbered {
			d.warn(CauseTargetPortMismatch, what, fmt.Sprintf("check the port the server listens on; declare it as a containerPort of %s", depName),
				"Service %s port %d sends to pod port %d, which no container of %s declares (declared: %s)", ref.service(), ref.Port, want, depName, strings.Join(declared, ", "))
		}
	}
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// securePort is the --secure-port a container of spec is started with, 0 if none.
func securePort(spec corev1.PodSpec) int32 {
	for _, c := range spec.Containers {
		args := append(append([]string{}, c.Command...), c.Args...)
		for i, a := range args {
			v, ok := strings.CutPrefix(a, "--secure-port=")
			if !ok && a == "--secure-port" && i+1 < len(args) {
				v, ok = args[i+1], true
			}
			if ok {
				if n, err := strconv.ParseUint(v, 10, 16); err == nil {
					return int32(n)
				}
			}
		}
	}
	return 0
}

// MaxLogBytes bounds the log tail read from each pod that is not ready.
const MaxLogBytes = 32 << 10

// checkPods reports the server pods that are not ready, with their containers'
// waiting and termination reasons and the RBAC denials among their last log lines.
func (d *Doctor) checkPods(ctx context.Context, what string, srv *server, available bool) {
	if len(srv.pods) == 0 {
		return
	}
	var notReady []*corev1.Pod
	for _, p := range srv.pods {
		if !podReady(p) {
			notReady = append(notReady, p)
		}
	}
	if len(notReady) == 0 {
		return
	}
	report := d.warn
	if len(notReady) == len(srv.pods) && !available {
		report = d.fail
	}
	for i, p := range notReady {
		if i == 3 {
			d.note(what, "%d more pod(s) of Service %s are not ready; not examined", len(notReady)-i, srv.ref.service())
			break
		}
		evidence := podEvidence(p)
		denials := d.logDenials(ctx, p)
		fix := fmt.Sprintf("kubectl -n %s describe pod %s; kubectl -n %s logs %s", p.Namespace, p.Name, p.Namespace, p.Name)
		if len(denials) > 0 {
			evidence = append(evidence, "log: "+strings.Join(denials, " | "))
			fix = "grant the server's ServiceAccount what the log says it is denied (k8s.io/apiserver servers: ClusterRole system:auth-delegator, Role extension-apiserver-authentication-reader in kube-system, list/watch of namespaces, admission policies and flow control); " + fix
		}
		report(CausePodsNotReady, what, fix, "pod %s/%s (%d of %d pod(s) of Service %s not ready): %s",
			p.Namespace, p.Name, len(notReady), len(srv.pods), srv.ref.service(), strings.Join(evidence, "; "))
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podEvidence says why a pod is not ready: phase, scheduling, and each container's
// waiting or last termination reason.
func podEvidence(p *corev1.Pod) []string {
	ev := []string{"phase " + string(p.Status.Phase)}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status != corev1.ConditionTrue {
			ev = append(ev, fmt.Sprintf("not scheduled (%s: %s)", c.Reason, oneLine(c.Message)))
		}
	}
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if w := cs.State.Waiting; w != nil {
			ev = append(ev, fmt.Sprintf("container %s waiting: %s %s", cs.Name, w.Reason, oneLine(w.Message)))
		}
		if t := cs.LastTerminationState.Terminated; t != nil {
			ev = append(ev, fmt.Sprintf("container %s last terminated: %s (exit %d) %s, %d restart(s)", cs.Name, t.Reason, t.ExitCode, oneLine(t.Message), cs.RestartCount))
		}
		if t := cs.State.Terminated; t != nil {
			ev = append(ev, fmt.Sprintf("container %s terminated: %s (exit %d) %s", cs.Name, t.Reason, t.ExitCode, oneLine(t.Message)))
		}
		if cs.State.Running != nil && !cs.Ready {
			ev = append(ev, fmt.Sprintf("container %s running but not ready (readiness probe)", cs.Name))
		}
	}
	for i := range ev {
		ev[i] = strings.TrimSpace(ev[i])
	}
	return ev
}

// denialMarkers are what k8s.io/apiserver servers and client-go log when the
// kube-apiserver refuses them.
var denialMarkers = []string{"is forbidden", "forbidden:", "Unauthorized", "is not in the allowed list", "Unable to authenticate the request"}

// logDenials reads the tail of a pod's log (bounded) and returns its RBAC and
// authentication denials, at most three, newest last.
func (d *Doctor) logDenials(ctx context.Context, p *corev1.Pod) []string {
	if len(p.Spec.Containers) == 0 {
		return nil
	}
	tail, limit := int64(50), int64(MaxLogBytes)
	ctx, cancel := context.WithTimeout(ctx, ProxiedTimeout)
	defer cancel()
	raw, err := d.Kube.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{
		Container: p.Spec.Containers[0].Name, TailLines: &tail, LimitBytes: &limit,
	}).DoRaw(ctx)
	if err != nil {
		return nil
	}
	return denials(raw)
}

// denials returns the RBAC and authentication denials of a log, at most three,
// newest last.
func denials(raw []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 4096), MaxLogBytes)
	for sc.Scan() {
		line := sc.Text()
		if slices.ContainsFunc(denialMarkers, func(m string) bool { return strings.Contains(line, m) }) {
			if len(line) > 300 {
				line = line[:300] + "…"
			}
			out = append(out, strings.TrimSpace(line))
		}
	}
	if len(out) > 3 {
		out = out[len(out)-3:]
	}
	return out
}
