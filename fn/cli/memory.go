package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/aggapi/aggapi/fn/internal/resourcelist"
)

// smallInput and smallHeap: an input under both renders in milliseconds and a few MB.
const (
	smallInput = 1 << 20
	smallHeap  = 64 << 20
)

// emitNodeBytes is what writing one node of a document costs while the document is
// written: yaml.v3's emitter queues every event of a document (~270 bytes each) until
// its end, in a slice that doubles as it grows.
const emitNodeBytes = 800

// inputMemory is what memoryPolicy found for one input: limit is the heap its parse
// needs (the soft memory limit set for a large input), budget the most the input may
// take (MemoryBudget). The zero value checks nothing.
type inputMemory struct {
	limit, budget int64
}

// checkWrite refuses to write a document of largest nodes that would take more memory
// than the input's budget, or than the process may use, once the input is parsed.
func (m inputMemory) checkWrite(largest int) error {
	limit, budget := m.limit, m.budget
	if limit == 0 {
		return nil
	}
	need := limit + int64(largest)*emitNodeBytes
	if need > budget {
		return fmt.Errorf("an object of %d YAML nodes needs about %d MiB of memory to write, more than the limit of %d times the input's size plus %d MiB (%d MiB): split the object",
			largest, need>>20, resourcelist.MemoryFactor, resourcelist.MemoryAllowance>>20, budget>>20)
	}
	if avail, limited := availableMemory(); limited && need > avail {
		return fmt.Errorf("an object of %d YAML nodes needs about %d MiB of memory to write, more than the %d MiB this process may use (ulimit -v or the cgroup's memory.max): raise the limit or split the object",
			largest, need>>20, max(avail, 0)>>20)
	}
	return nil
}

// memoryPolicy sets the garbage collector for the input and returns what the input
// may take (for checkWrite) and what restores the previous settings. An input whose nodes would take more than its
// resourcelist.MemoryBudget is refused before it is parsed. A small render allocates
// a few MB in ~40 ms: collecting rarely (GOGC=400) saves ~10% of it. A large input's
// parsed nodes take ~20 times its size: there a soft limit at the estimated need keeps
// the heap near it instead of letting it grow to a multiple. An input that needs more
// memory than the process may use (ulimit -v, a cgroup limit) is refused up front
// rather than crashing half-way.
func memoryPolicy(data []byte) (mem inputMemory, restore func(), err error) {
	need, err := resourcelist.CheckMemory(data, "the input", 1)
	if err != nil {
		return inputMemory{}, nil, err
	}
	mem = inputMemory{limit: need, budget: resourcelist.MemoryBudget(len(data))}
	if len(data) < smallInput && need < smallHeap {
		prev := debug.SetGCPercent(400)
		return mem, func() { debug.SetGCPercent(prev) }, nil
	}
	if avail, limited := availableMemory(); limited && need > avail {
		return inputMemory{}, nil, fmt.Errorf("the input (%d MiB) needs about %d MiB of memory to render, more than the %d MiB this process may use (ulimit -v or the cgroup's memory.max): raise the limit or split the input",
			len(data)>>20, need>>20, max(avail, 0)>>20)
	}
	prevPercent := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(need)
	return mem, func() {
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
	}, nil
}
