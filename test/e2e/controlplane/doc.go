// Package controlplane runs a real Kubernetes control plane for end-to-end
// tests: etcd, kube-apiserver and optionally kube-controller-manager (only the
// clusterrole-aggregation controller) and the sample-apiserver, each as a
// local process bound to 127.0.0.1. There is no kubelet and no container
// runtime, so no pod ever runs; aggregated API servers run as local processes.
//
// The binaries are built by hack/e2e/install.sh; see FindBinaries.
//
// Aggregation and loopback: kube-apiserver refuses loopback addresses in
// EndpointSlices, so with --enable-aggregator-routing=true (the default here)
// the aggregator can never reach a backend on 127.0.0.1. To route an
// APIService to a local process, start the control plane with
// DisableAggregatorRouting and point the APIService at a Service of type
// ExternalName whose externalName is "127.0.0.1" (see
// ExternalNameService); the aggregator then dials 127.0.0.1:<APIService port>
// and verifies the backend's certificate against the APIService caBundle for
// the name <service>.<namespace>.svc.
package controlplane
