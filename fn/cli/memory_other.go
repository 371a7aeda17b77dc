//go:build !linux

package cli

// availableMemory: no limit is read outside Linux.
func availableMemory() (int64, bool) { return 0, false }
