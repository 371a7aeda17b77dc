// Package node runs a real Kubernetes node for end-to-end tests: containerd,
// the kubelet, kube-proxy and kube-scheduler, joined to a control plane of
// package controlplane, so the rendered Deployments run as real pods.
//
// Everything runs in namespaces the test binary makes for itself: Main re-runs
// the test binary as the first process of a new PID, mount and network
// namespace. There the node has a veth pair of its own (both ends inside, no
// default route), the Service CIDR routed to it, private tmpfs over /run,
// /var/log and /var/lib, and private copies of the kernel settings the kubelet
// insists on writing, so the host's interfaces, routes, files and kernel
// settings never change and no packet leaves the namespace. The control plane
// runs there too, and listens on the node's address so that pods reach it
// through the kubernetes Service.
//
// Tear-down is by process id, mount and cgroup (Node.Stop, and a scan for a
// killed run's cgroups before a run starts); when the test binary exits, the
// kernel ends every process left in its PID namespace, and the namespaces,
// tmpfs mounts and pods' sandboxes go with it.
//
// Images are built without a daemon: a one-layer OCI image of one static
// binary, user 65532, imported with ctr (see Node.ImportBinaryImage).
package node
