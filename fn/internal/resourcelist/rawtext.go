package resourcelist

import (
	"bytes"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// rawItems returns the input text of the items of a block-style ResourceList, by node,
// each re-indented so that its dash is in column 0: what the writer would write, for
// items the function passes through, without encoding them again (encoding is the
// larger half of the cost of passing 10,000 objects through). An item's text runs from
// its dash, or the comment lines at the dash's column or left of it just above it, to
// the next item's; the last item's ends where the ResourceList's next key (and its
// comments) starts, and is not raw if no key follows. An item whose lines do not fit
// the pattern is left out (encoded).
func rawItems(data []byte, list *yaml.Node) map[*yaml.Node][]byte {
	var items *yaml.Node
	next := 0 // the line of the ResourceList's key after items, 0 if none
	for i := 0; i+1 < len(list.Content); i += 2 {
		if list.Content[i].Value == "items" {
			items = list.Content[i+1]
			if i+2 < len(list.Content) {
				next = list.Content[i+2].Line
			}
		}
	}
	if items == nil || items.Kind != yaml.SequenceNode || items.Style&yaml.FlowStyle != 0 || len(items.Content) == 0 {
		return nil
	}
	if hasOtherBreaks(data) {
		return nil
	}
	var lines []int // lines[l-1] is the offset of line l
	lines = append(lines, 0)
	for i, c := range data {
		if c == '\n' {
			lines = append(lines, i+1)
		}
	}
	lineText := func(l int) []byte {
		end := len(data)
		if l < len(lines) {
			end = lines[l]
		}
		return data[lines[l-1]:end]
	}
	dashCol := -1
	// head returns the first line of the item (or key) starting on line l: the comment
	// lines at column dashCol or left of it just above it belong to it.
	head := func(l, floor int) int {
		for l-1 > floor {
			t := lineText(l - 1)
			trimmed := bytes.TrimLeft(t, " ")
			if len(trimmed) == 0 || trimmed[0] != '#' || len(t)-len(trimmed) > dashCol {
				break
			}
			l--
		}
		return l
	}
	starts := make([]int, len(items.Content)+1)
	for i, it := range items.Content {
		if it.Kind != yaml.MappingNode || it.Line < 1 || it.Line > len(lines) || it.Column < 3 {
			return nil
		}
		line := lineText(it.Line)
		d := it.Column - 3
		if d+2 > len(line) || string(line[d:d+2]) != "- " || len(bytes.TrimLeft(line[:d], " ")) != 0 || (dashCol >= 0 && d != dashCol) {
			return nil
		}
		dashCol = d
		floor := 0
		if i > 0 {
			floor = items.Content[i-1].Line
			if it.Line <= floor {
				return nil // two items on one line
			}
		}
		starts[i] = head(it.Line, floor)
	}
	if next > len(lines) {
		return nil
	}
	if next > items.Content[len(items.Content)-1].Line {
		starts[len(items.Content)] = head(next, items.Content[len(items.Content)-1].Line)
	}
	raw := make(map[*yaml.Node][]byte, len(items.Content))
	for i, it := range items.Content {
		if starts[i+1] == 0 {
			break
		}
		text := data[lines[starts[i]-1]:lines[starts[i+1]-1]]
		if dashCol > 0 {
			if text = unindent(text, dashCol); text == nil {
				continue
			}
		}
		raw[it] = text
	}
	return raw
}

// hasOtherBreaks reports whether data holds a line break other than \n: the YAML parser
// counts \r (alone or before \n), NEL, LS and PS as line breaks too, so its line numbers
// would not match the line table rawItems builds from \n alone. Such input is encoded
// rather than copied (found by FuzzParseMatchesKyaml: a \r before the last key indexed
// past the table).
func hasOtherBreaks(data []byte) bool {
	return bytes.IndexByte(data, '\r') >= 0 ||
		bytes.Contains(data, []byte("\u0085")) ||
		bytes.Contains(data, []byte("\u2028")) ||
		bytes.Contains(data, []byte("\u2029"))
}

// unindent removes n leading spaces from every line of text; nil if a line that is not
// blank has fewer.
func unindent(text []byte, n int) []byte {
	out := make([]byte, 0, len(text))
	for len(text) > 0 {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line = text[:i+1]
		}
		text = text[len(line):]
		switch {
		case len(line) > n && len(bytes.TrimLeft(line[:n], " ")) == 0:
			out = append(out, line[n:]...)
		case len(bytes.TrimSpace(line)) == 0:
			out = append(out, bytes.TrimLeft(line, " \t")...)
		default:
			return nil
		}
	}
	return out
}
