package doctor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

// ProxiedTimeout bounds each request the kube-apiserver passes on to another server
// (an aggregated API's discovery, a kubelet's log), tighter than --request-timeout: a
// hanging server must not hold up the checks of the 199 others.
const ProxiedTimeout = 5 * time.Second

// MaxAPIServices bounds the APIServices listed (pages of MaxListItems).
const MaxAPIServices = 5000

// listAPIServices lists every APIService once per run, bounded.
func (d *Doctor) listAPIServices(ctx context.Context) ([]apiregv1.APIService, error) {
	if d.apiServicesRead {
		return d.apiServices, d.apiServicesErr
	}
	d.apiServicesRead = true
	opts := metav1.ListOptions{Limit: MaxListItems}
	for {
		l, err := d.Aggregator.ApiregistrationV1().APIServices().List(ctx, opts)
		if err != nil {
			d.apiServicesErr = err
			return nil, err
		}
		d.apiServices = append(d.apiServices, l.Items...)
		if l.Continue == "" || len(d.apiServices) >= MaxAPIServices {
			break
		}
		opts.Continue = l.Continue
	}
	return d.apiServices, nil
}

func available(api *apiregv1.APIService) (bool, *apiregv1.APIServiceCondition) {
	for i := range api.Status.Conditions {
		if c := &api.Status.Conditions[i]; c.Type == apiregv1.Available {
			return c.Status == apiregv1.ConditionTrue, c
		}
	}
	return false, nil
}

// checkTerminatingNamespaces names the namespaces stuck in Terminating because the
// namespace controller cannot discover an unavailable APIService's resources, each
// with the APIService that blocks it.
func (d *Doctor) checkTerminatingNamespaces(ctx context.Context) {
	apis, err := d.listAPIServices(ctx)
	if err != nil {
		return
	}
	var down []*apiregv1.APIService
	for i := range apis {
		if ok, _ := available(&apis[i]); !ok && apis[i].Spec.Service != nil {
			down = append(down, &apis[i])
		}
	}
	if len(down) == 0 {
		return
	}
	nss, err := d.Kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{FieldSelector: "status.phase=Terminating", Limit: MaxListItems})
	if err != nil {
		d.note("namespaces", "namespaces stuck in Terminating are not checked: %v", err)
		return
	}
	for _, ns := range nss.Items {
		if ns.Status.Phase != corev1.NamespaceTerminating {
			continue
		}
		msg := ""
		for _, c := range ns.Status.Conditions {
			if c.Type == corev1.NamespaceDeletionDiscoveryFailure && c.Status == corev1.ConditionTrue {
				msg = oneLine(c.Message)
			}
		}
		var blockers []string
		for _, api := range down {
			gv := api.Spec.Group + "/" + api.Spec.Version
			// Without the condition (an older controller) every unavailable APIService
			// blocks deletion: the controller needs all of discovery.
			if msg == "" || strings.Contains(msg, gv) {
				blockers = append(blockers, api.Name)
			}
		}
		if len(blockers) == 0 {
			continue
		}
		slices.Sort(blockers)
		evidence := msg
		if evidence == "" {
			evidence = "no NamespaceDeletionDiscoveryFailure condition; unavailable APIServices block every namespace deletion"
		}
		d.fail(CauseNamespaceTerminates, "Namespace "+ns.Name,
			fmt.Sprintf("make APIService %s Available again (see its own finding); if its server is gone for good, delete it (kubectl delete apiservice %s) and the namespace controller finishes", strings.Join(blockers, ", "), strings.Join(blockers, " ")),
			"stuck in Terminating since %s, blocked by unavailable APIService %s: %s", stamp(ns.DeletionTimestamp.Time), strings.Join(blockers, ", "), evidence)
	}
}

// checkDiscovery reports an Available APIService whose server lists no resources for
// its group/version: clients see the group but can do nothing with it.
func (d *Doctor) checkDiscovery(ctx context.Context, what string, live *apiregv1.APIService) {
	gv := live.Spec.Group + "/" + live.Spec.Version
	disc := discovery.ToDiscoveryInterfaceWithContext(d.Kube.Discovery())
	ctx, cancel := context.WithTimeout(ctx, ProxiedTimeout)
	defer cancel()
	list, err := disc.ServerResourcesForGroupVersionWithContext(ctx, gv)
	if err != nil {
		d.note(what, "discovery of %s is not checked: %v", gv, err)
		return
	}
	if len(list.APIResources) == 0 {
		d.warn(CauseEmptyDiscovery, what, fmt.Sprintf("deploy the server build that serves resources in %s (or remove the APIService for a version it dropped): read the server's log for the resources it installs", gv),
			"Available, but GET /apis/%s lists no resources: clients see the group and can do nothing with it", gv)
	}
}

// watchAvailability samples the Available condition of the named APIServices every
// interval for window and reports those that changed more than once: a flapping
// server or network path.
func (d *Doctor) watchAvailability(ctx context.Context, names []string, window, interval time.Duration) {
	if window <= 0 || len(names) == 0 {
		return
	}
	if interval <= 0 {
		interval = 2 * time.Second
	}
	sleep := d.Sleep
	if sleep == nil {
		sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				return nil
			}
		}
	}
	samples := int(window / interval)
	if samples < 2 {
		samples = 2
	}
	type history struct {
		last        string
		changes     int
		falses      int
		lastMessage string
	}
	hist := map[string]*history{}
	for i := 0; i < samples; i++ {
		if i > 0 {
			if sleep(ctx, interval) != nil {
				break
			}
		}
		apis, err := d.Aggregator.ApiregistrationV1().APIServices().List(ctx, metav1.ListOptions{Limit: MaxListItems})
		if err != nil {
			d.note("availability", "sampling stopped: %v", err)
			break
		}
		for j := range apis.Items {
			api := &apis.Items[j]
			if !slices.Contains(names, api.Name) {
				continue
			}
			ok, cond := available(api)
			state := "False"
			if ok {
				state = "True"
			}
			h := hist[api.Name]
			if h == nil {
				h = &history{last: state}
				hist[api.Name] = h
			} else if h.last != state {
				h.changes++
				h.last = state
			}
			if !ok {
				h.falses++
				if cond != nil {
					h.lastMessage = cond.Reason + ": " + oneLine(cond.Message)
				}
			}
		}
	}
	for _, name := range names {
		h := hist[name]
		if h == nil || h.changes < 2 {
			continue
		}
		d.warn(CauseFlapping, "APIService "+name,
			"read the server's log and restarts (liveness probe, memory limit), its readiness while overloaded, and the network path (konnectivity agents restarting drop the tunnel)",
			"Available changed %d times in %d samples over %s (%d samples False; last False: %s)", h.changes, samples, window, h.falses, h.lastMessage)
	}
}
