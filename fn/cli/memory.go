package cli

import (
	"bytes"
	"fmt"
	"runtime/debug"
)

// smallInput is the input size below which a render takes milliseconds and a few MB.
const smallInput = 1 << 20

// markBytes is the heap one structural mark of the input costs once parsed. Every YAML
// node starts at a ':', ',', '-', '[', '{' or a line break, a little under one node a
// mark in real manifests; a node (yaml.Node, its slot in its parent, its value) takes
// ~210 bytes: 10,000 Deployments, 930,000 marks, hold 165 MB.
const markBytes = 200

// emitNodeBytes is what writing one node of a document costs while the document is
// written: yaml.v3's emitter queues every event of a document (~270 bytes each) until
// its end, in a slice that doubles as it grows.
const emitNodeBytes = 800

// estimateHeap is the heap a render of data needs: its nodes, and the input and output
// bytes beside them.
func estimateHeap(data []byte) int64 {
	marks := 0
	for _, c := range []byte{':', ',', '-', '[', '{', '\n'} {
		marks += bytes.Count(data, []byte{c})
	}
	return int64(marks)*markBytes + 2*int64(len(data)) + 16<<20
}

// limit is the soft memory limit memoryPolicy set, 0 for a small input.
var limit int64

// checkWrite refuses to write a document of largest nodes that would not fit the memory
// the process may use, once the input is parsed.
func checkWrite(largest int) error {
	if limit == 0 {
		return nil
	}
	need := limit + int64(largest)*emitNodeBytes
	if avail, limited := availableMemory(); limited && need > avail {
		return fmt.Errorf("an object of %d YAML nodes needs about %d MiB of memory to write, more than the %d MiB this process may use (ulimit -v or the cgroup's memory.max): raise the limit or split the object",
			largest, need>>20, max(avail, 0)>>20)
	}
	return nil
}

// memoryPolicy sets the garbage collector for the input and returns what restores the
// previous settings. A small render allocates a few MB in ~40 ms: collecting rarely
// (GOGC=400) saves ~10% of it. A large input's parsed nodes take ~20 times its size:
// there a soft limit at the estimated need keeps the heap near it instead of letting it
// grow to a multiple. An input that needs more memory than the process may use (ulimit
// -v, a cgroup limit) is refused up front rather than crashing half-way.
func memoryPolicy(data []byte) (restore func(), err error) {
	if len(data) < smallInput {
		prev := debug.SetGCPercent(400)
		return func() { debug.SetGCPercent(prev) }, nil
	}
	need := estimateHeap(data)
	if avail, limited := availableMemory(); limited && need > avail {
		return nil, fmt.Errorf("the input (%d MiB) needs about %d MiB of memory to render, more than the %d MiB this process may use (ulimit -v or the cgroup's memory.max): raise the limit or split the input",
			len(data)>>20, need>>20, max(avail, 0)>>20)
	}
	limit = need
	prevPercent := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(need)
	return func() {
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
		limit = 0
	}, nil
}
