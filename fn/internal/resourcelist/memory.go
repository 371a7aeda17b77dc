package resourcelist

import (
	"bytes"
	"fmt"
)

// The memory a parse may take (README, Limits): every YAML node becomes a yaml.Node,
// whatever the bytes it was read from, so a dense document (`[1,1,1,...]`, two bytes a
// node) takes ~85 times its size where ordinary manifests (~9 bytes a node) take ~20.
// Input whose nodes would need more than MemoryFactor times its size plus
// MemoryAllowance is refused before it is parsed.
const (
	// NodeBytes is the heap one parsed node takes: a yaml.Node (152 bytes, 160 in its
	// size class) and its slot in its parent's Content; 169 bytes measured for every
	// shape of collection, rounded up. Values are counted with the input's bytes.
	NodeBytes = 200
	// MemoryFactor and MemoryAllowance bound what a parse may need: MemoryFactor times
	// the size of the input (of one document, for a reader that keeps no document)
	// plus MemoryAllowance.
	MemoryFactor    = 40
	MemoryAllowance = 128 << 20
	// parseOverhead is the heap a parse needs beside its nodes: the runtime, and the
	// input's bytes twice (as read, and as the scalars' values).
	parseOverhead = 16 << 20
)

// Nodes returns, in a few cheap passes over data, a bound on the YAML nodes it parses
// to. Every node but a document and its root starts at a structural mark: a ':', '-',
// '?' or line break, or a ',', '[' or '{' counted twice (`{a, b}` holds a null after
// each key; `[a: b, ...]` a mapping and two scalars an entry). Marks inside strings and
// comments count too: a bound, not a count (1 to 3 marks a node). When data may hold
// an alias, the bound is doubled plus the expansion allowance: Parse refuses aliases
// that expand the input further than that.
func Nodes(data []byte) int {
	n := marks(data)
	if mayHaveAlias(data) {
		n = 2*n + aliasAllowance
	}
	return n
}

func marks(data []byte) int {
	n := 2 + 2*(bytes.Count(data, []byte{','})+bytes.Count(data, []byte{'['})+bytes.Count(data, []byte{'{'}))
	for _, mark := range []string{":", "-", "?", "\n", "\u0085", "\u2028", "\u2029"} {
		n += bytes.Count(data, []byte(mark))
	}
	return n + bytes.Count(data, []byte{'\r'}) - bytes.Count(data, []byte("\r\n")) // a lone \r breaks a line
}

// mayHaveAlias reports whether data may hold an alias: a '*' where a node can start
// (at the start, after a space, a line break, a flow indicator or ':'), followed by
// something other than a space. A '*' in a string (`"*"`, `*/5`, `a*b`) is not one.
func mayHaveAlias(data []byte) bool {
	for i := 0; i < len(data); {
		j := bytes.IndexByte(data[i:], '*')
		if j < 0 {
			return false
		}
		i += j
		if i+1 < len(data) && !bytes.ContainsRune([]byte(" \t\r\n"), rune(data[i+1])) &&
			(i == 0 || bytes.IndexByte([]byte(" \t\r\n[{,:-?"), data[i-1]) >= 0 || data[i-1] >= 0x80) {
			return true
		}
		i++
	}
	return false
}

// ParseHeap is the heap parsing data takes at most: its nodes, and its bytes.
func ParseHeap(data []byte) int64 {
	return int64(Nodes(data))*NodeBytes + 2*int64(len(data)) + parseOverhead
}

// MemoryBudget is the most a parse of size bytes may take: MemoryFactor times the
// size plus MemoryAllowance.
func MemoryBudget(size int) int64 {
	return MemoryFactor*int64(size) + MemoryAllowance
}

// MemoryError says an input has too many YAML nodes for its size.
type MemoryError struct {
	// What is refused: "the input", "the document at line 3".
	What string
	// Size is its size, Nodes the bound of its nodes, Need the memory they need and
	// Limit the budget.
	Size, Nodes int
	Need, Limit int64
	// Line is the line holding the most nodes, LineNodes how many (0 if none stands out).
	Line, LineNodes int
}

func (e *MemoryError) Error() string {
	where := ""
	if e.LineNodes > 0 {
		where = fmt.Sprintf(" (line %d alone holds about %d)", e.Line, e.LineNodes)
	}
	return fmt.Sprintf("%s (%d bytes) holds up to %d YAML nodes%s, about 200 bytes of memory each: it needs about %d MiB to parse, more than the limit of %d times its size plus %d MiB (%d MiB). A dense list or mapping (`[1,1,1,...]`) takes a hundred times its size: write such data as a string, or split it",
		e.What, e.Size, e.Nodes, where, e.Need>>20, MemoryFactor, MemoryAllowance>>20, e.Limit>>20)
}

// CheckMemory returns what a parse of data needs (ParseHeap), and refuses data, named
// what in the error and starting on line first of its file, whose parse would need
// more than its MemoryBudget. The need comes back so no caller counts the nodes twice.
func CheckMemory(data []byte, what string, first int) (need int64, err error) {
	need, limit := ParseHeap(data), MemoryBudget(len(data))
	if need <= limit {
		return need, nil
	}
	e := &MemoryError{What: what, Size: len(data), Nodes: Nodes(data), Need: need, Limit: limit}
	e.Line, e.LineNodes = densestLine(data)
	e.Line += first - 1
	if e.LineNodes < e.Nodes/2 {
		e.LineNodes = 0 // no one line stands out
	}
	return need, e
}

// densestLine returns the line of data (from 1) with the most nodes, and their bound.
func densestLine(data []byte) (line, nodes int) {
	for l := 1; len(data) > 0; l++ {
		end := bytes.IndexByte(data, '\n')
		if end < 0 {
			end = len(data) - 1
		}
		if n := marks(data[:end+1]); n > nodes {
			line, nodes = l, n
		}
		data = data[end+1:]
	}
	return line, nodes
}

// Documents calls f with each document of data (from 1 line), split at every line
// that is `---` alone or followed by a space or tab: the YAML parser starts a document
// there too (or refuses a scalar cut by it), so no document it parses spans two.
// It may split less often than the parser (after `...`, or at a \r line break), which
// only makes a document larger.
func Documents(data []byte, f func(doc []byte, line int) error) error {
	start, line := 0, 1
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("\n---"))
		if j < 0 {
			return f(data[start:], line)
		}
		i += j + 1
		if k := i + 3; k == len(data) || data[k] == ' ' || data[k] == '\t' || data[k] == '\n' || data[k] == '\r' {
			if err := f(data[start:i], line); err != nil {
				return err
			}
			line += bytes.Count(data[start:i], []byte{'\n'})
			start = i
		}
	}
}
