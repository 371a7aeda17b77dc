package doctor

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MaxListItems bounds each list the doctor makes (one page, never continued): a
// namespace with more Deployments, pods or policies than that is checked on the first
// page, and the report says so.
const MaxListItems = 500

// listed is one list per namespace and kind, made once per run: many APIServices
// (metrics, custom and external metrics) share one namespace and one server.
type listed[T any] struct {
	items     []T
	err       error
	truncated bool
}

type nsLists struct {
	services    map[string]*corev1.Service
	serviceErrs map[string]error
	secrets     map[string]*corev1.Secret
	secretErrs  map[string]error
	deployments *listed[appsv1.Deployment]
	pods        *listed[corev1.Pod]
	slices      *listed[discoveryv1.EndpointSlice]
	policies    *listed[networkingv1.NetworkPolicy]
}

func (d *Doctor) nsCache(ns string) *nsLists {
	if d.cache == nil {
		d.cache = map[string]*nsLists{}
	}
	c := d.cache[ns]
	if c == nil {
		c = &nsLists{services: map[string]*corev1.Service{}, serviceErrs: map[string]error{},
			secrets: map[string]*corev1.Secret{}, secretErrs: map[string]error{}}
		d.cache[ns] = c
	}
	return c
}

var boundedList = metav1.ListOptions{Limit: MaxListItems}

func (d *Doctor) service(ctx context.Context, ns, name string) (*corev1.Service, error) {
	c := d.nsCache(ns)
	if s, ok := c.services[name]; ok {
		return s, nil
	}
	if err, ok := c.serviceErrs[name]; ok {
		return nil, err
	}
	s, err := d.Kube.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		c.serviceErrs[name] = err
		return nil, err
	}
	c.services[name] = s
	return s, nil
}

func (d *Doctor) secret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	c := d.nsCache(ns)
	if s, ok := c.secrets[name]; ok {
		return s, nil
	}
	if err, ok := c.secretErrs[name]; ok {
		return nil, err
	}
	s, err := d.Kube.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		c.secretErrs[name] = err
		return nil, err
	}
	c.secrets[name] = s
	return s, nil
}

func (d *Doctor) deployments(ctx context.Context, ns string) *listed[appsv1.Deployment] {
	c := d.nsCache(ns)
	if c.deployments == nil {
		l, err := d.Kube.AppsV1().Deployments(ns).List(ctx, boundedList)
		c.deployments = &listed[appsv1.Deployment]{err: err}
		if err == nil {
			c.deployments.items, c.deployments.truncated = l.Items, l.Continue != ""
		}
	}
	return c.deployments
}

func (d *Doctor) pods(ctx context.Context, ns string) *listed[corev1.Pod] {
	c := d.nsCache(ns)
	if c.pods == nil {
		l, err := d.Kube.CoreV1().Pods(ns).List(ctx, boundedList)
		c.pods = &listed[corev1.Pod]{err: err}
		if err == nil {
			c.pods.items, c.pods.truncated = l.Items, l.Continue != ""
		}
	}
	return c.pods
}

func (d *Doctor) endpointSlices(ctx context.Context, ns string) *listed[discoveryv1.EndpointSlice] {
	c := d.nsCache(ns)
	if c.slices == nil {
		l, err := d.Kube.DiscoveryV1().EndpointSlices(ns).List(ctx, boundedList)
		c.slices = &listed[discoveryv1.EndpointSlice]{err: err}
		if err == nil {
			c.slices.items, c.slices.truncated = l.Items, l.Continue != ""
		}
	}
	return c.slices
}

func (d *Doctor) networkPolicies(ctx context.Context, ns string) *listed[networkingv1.NetworkPolicy] {
	c := d.nsCache(ns)
	if c.policies == nil {
		l, err := d.Kube.NetworkingV1().NetworkPolicies(ns).List(ctx, boundedList)
		c.policies = &listed[networkingv1.NetworkPolicy]{err: err}
		if err == nil {
			c.policies.items, c.policies.truncated = l.Items, l.Continue != ""
		}
	}
	return c.policies
}
