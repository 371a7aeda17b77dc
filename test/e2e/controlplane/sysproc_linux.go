package controlplane

import "syscall"

// sysProcAttr makes the kernel SIGKILL a child if the test binary dies without
// running its cleanup (go test -timeout panic, SIGKILL, ...), so no orphaned
// etcd or kube-apiserver is left listening.
//
// Pdeathsig fires when the OS *thread* that forked the child exits, not the
// process. The Go runtime does not retire threads unless a goroutine exits
// while locked to its thread with runtime.LockOSThread, which this package
// never does around process start.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
