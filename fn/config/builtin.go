package config

import (
	"slices"
	"strings"
)

// BuiltinGroups are the API groups kube-apiserver serves itself ("" is the core group):
// an APIService for one of them would take over a built-in API (the aggregator routes
// <version>.<group> to whoever registered it). It is what Kubernetes v1.37's modules
// register: client-go's scheme (the groups of k8s.io/api), apiregistration.k8s.io
// (kube-aggregator) and apiextensions.k8s.io (apiextensions-apiserver), both served in
// process by kube-apiserver; TestBuiltinGroupsAreTheRegisteredOnes ties the list to them,
// and the e2e compares it with the local APIServices of a real kube-apiserver. A list,
// not those imports: the function does not link client-go's scheme. Sorted.
//
// The groups of the metrics APIs (metrics.k8s.io, custom.metrics.k8s.io,
// external.metrics.k8s.io) are defined by Kubernetes for extension servers and are not
// in the list.
var BuiltinGroups = []string{
	"",
	"admissionregistration.k8s.io",
	"apiextensions.k8s.io",
	"apiregistration.k8s.io",
	"apps",
	"authentication.k8s.io",
	"authorization.k8s.io",
	"autoscaling",
	"batch",
	"certificates.k8s.io",
	"coordination.k8s.io",
	"discovery.k8s.io",
	"events.k8s.io",
	"extensions", // no longer served, still registered: its old clients must not reach an extension server
	"flowcontrol.apiserver.k8s.io",
	"internal.apiserver.k8s.io",
	"lifecycle.k8s.io",
	"networking.k8s.io",
	"node.k8s.io",
	"policy",
	"rbac.authorization.k8s.io",
	"resource.k8s.io",
	"scheduling.k8s.io",
	"storage.k8s.io",
	"storagemigration.k8s.io",
}

// IsBuiltinGroup reports whether kube-apiserver serves group itself.
func IsBuiltinGroup(group string) bool {
	_, found := slices.BinarySearch(BuiltinGroups, group)
	return found
}

// BuiltinRBACNames are the ClusterRoles and ClusterRoleBindings kube-apiserver creates
// at start (label kubernetes.io/bootstrapping=rbac-defaults; Kubernetes v1.37's
// bootstrappolicy) and reconciles: a generated role or binding of one of these names
// would change who may do what in the whole cluster until kube-apiserver reverts it.
// Other system: names stay allowed: metrics-server, for one, installs
// system:metrics-server and system:aggregated-metrics-reader, and a config adopting it
// names them. The e2e holds the list to the bootstrapped objects of a real kube-apiserver.
// Sorted.
var BuiltinRBACNames = []string{
	"admin",
	"cluster-admin",
	"edit",
	"system:aggregate-to-admin",
	"system:aggregate-to-edit",
	"system:aggregate-to-view",
	"system:auth-delegator",
	"system:basic-user",
	"system:cluster-trust-bundle-discovery",
	"system:discovery",
	"system:heapster",
	"system:kube-aggregator",
	"system:kube-controller-manager",
	"system:kube-dns",
	"system:kube-scheduler",
	"system:kubelet-api-admin",
	"system:monitoring",
	"system:node",
	"system:node-bootstrapper",
	"system:node-problem-detector",
	"system:node-proxier",
	"system:persistent-volume-provisioner",
	"system:public-info-viewer",
	"system:service-account-issuer-discovery",
	"system:volume-scheduler",
	"view",
}

// builtinRBACPrefixes are the families of bootstrapped names: the controllers' roles and
// bindings, the CSR approvers, and kube-system's RoleBindings (system::...).
var builtinRBACPrefixes = []string{"system:controller:", "system:certificates.k8s.io:", "system::"}

// IsBuiltinRBACName reports whether name is a ClusterRole, ClusterRoleBinding or
// kube-system RoleBinding kube-apiserver bootstraps.
func IsBuiltinRBACName(name string) bool {
	if _, found := slices.BinarySearch(BuiltinRBACNames, name); found {
		return true
	}
	return slices.ContainsFunc(builtinRBACPrefixes, func(p string) bool { return strings.HasPrefix(name, p) })
}
