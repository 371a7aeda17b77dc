package cli

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// runtimeReserve is the address space the Go runtime reserves beside the heap (page
// allocator summaries, arena metadata, stacks): under ulimit -v 1G, allocations fail
// from ~290 MB of heap.
const runtimeReserve = 768 << 20

// availableMemory returns how much heap the process may grow to, and whether a limit
// applies: the address-space limit (ulimit -v) less the runtime's reservations, or the
// cgroup's memory limit, whichever is lower.
func availableMemory() (int64, bool) {
	avail, limited := int64(0), false
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &rl); err == nil && rl.Cur < 1<<62 {
		avail, limited = int64(rl.Cur)-runtimeReserve, true
	}
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 || n >= 1<<62 {
			continue // "max", or cgroup v1's "no limit"
		}
		if n -= 32 << 20; !limited || n < avail {
			avail, limited = n, true
		}
		break
	}
	return avail, limited
}
