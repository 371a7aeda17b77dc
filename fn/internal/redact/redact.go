package redact

import (
	"encoding/base64"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Redacted replaces the body of a private key.
const Redacted = "[redacted]"

// RedactedBase64 replaces base64 that encodes a private key.
const RedactedBase64 = "[redacted: base64 of a private key]"

const (
	begin  = "-----BEGIN "
	end    = "-----END "
	dashes = "-----"
	// maxLabel bounds a PEM type ("ENCRYPTED PRIVATE KEY" is 21 characters).
	maxLabel = 64
)

// base64Markers are the base64 spellings of "PRIVATE KEY" at the three byte
// alignments, only the characters its bytes alone decide.
var base64Markers = markers("PRIVATE KEY")

func markers(s string) []string {
	var out []string
	for shift := range 3 {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x00", shift) + s))
		from := (8*shift + 5) / 6      // the first character whose 6 bits are all s's
		to := 8 * (shift + len(s)) / 6 // past the last one
		out = append(out, enc[from:to])
	}
	return out
}

// String returns s with every private key in it redacted: a PEM block whose type
// contains "PRIVATE KEY" keeps its BEGIN and END lines and loses what is between (a
// block without END loses the key characters that follow its BEGIN line, raw or
// escaped as in a quoted value), and a run of base64 that encodes "PRIVATE KEY" is
// replaced whole.
func String(s string) string {
	if strings.Contains(s, begin) {
		s = redactPEM(s)
	}
	for _, m := range base64Markers {
		if strings.Contains(s, m) {
			s = redactBase64(s)
			break
		}
	}
	return s
}

func redactPEM(s string) string {
	footers := footers(s)
	var b strings.Builder
	at := 0 // s[:at] is written
	for {
		i := strings.Index(s[at:], begin)
		if i < 0 {
			b.WriteString(s[at:])
			return b.String()
		}
		labelAt := at + i + len(begin)
		n := strings.Index(s[labelAt:min(len(s), labelAt+maxLabel+len(dashes))], dashes)
		if n < 0 || !strings.Contains(s[labelAt:labelAt+n], "PRIVATE KEY") {
			// Not a private key, or a header cut short (which holds no key bytes).
			b.WriteString(s[at:labelAt])
			at = labelAt
			continue
		}
		headerEnd := labelAt + n + len(dashes)
		b.WriteString(s[at:headerEnd])
		b.WriteString(" " + Redacted)
		at = headerEnd
		continued := strings.HasPrefix(s[at:], " "+Redacted) // redacted before
		if continued {
			at += len(" " + Redacted)
		}
		for len(footers) > 0 && footers[0][0] < at {
			footers = footers[1:]
		}
		if len(footers) > 0 {
			b.WriteString(" ")
			b.WriteString(s[footers[0][0]:footers[0][1]])
			at = footers[0][1]
			continue
		}
		at += keyRun(s[at:], continued)
	}
}

// footers finds every END line of s, as [start, end) offsets, in one pass.
func footers(s string) [][2]int {
	var out [][2]int
	for at := 0; ; {
		i := strings.Index(s[at:], end)
		if i < 0 {
			return out
		}
		labelAt := at + i + len(end)
		if n := strings.Index(s[labelAt:min(len(s), labelAt+maxLabel+len(dashes))], dashes); n >= 0 {
			out = append(out, [2]int{at + i, labelAt + n + len(dashes)})
		}
		at = labelAt
	}
}

// keyRun is the length of the key text at the start of s, for a block without END:
// base64, PEM headers ("Proc-Type: 4,ENCRYPTED"), line breaks raw or escaped, the
// indentation after a line break, and a space before another long run of base64 (a
// key pasted on one line). After a block redacted before (continued), the text that
// first pass kept is kept again.
func keyRun(s string, continued bool) int {
	n := keyText(s, continued)
	for n > 0 && (s[n-1] == ' ' || s[n-1] == '\t') {
		n-- // the space before the message goes on
	}
	return n
}

func keyText(s string, continued bool) int {
	lineStart, afterColon := !continued, false
	word := 0 // the length of the run of base64 before a space
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case isBase64(c) || c == '=' || c == ',' || c == '-':
			lineStart, afterColon = false, false
			word++
		case c == ':':
			lineStart, afterColon = false, true
		case c == '\n' || c == '\r':
			lineStart, afterColon, word = true, false, 0
		case c == '\\' && i+1 < len(s) && (s[i+1] == 'n' || s[i+1] == 'r'):
			lineStart, afterColon, word = true, false, 0
			i++
		case c == ' ' || c == '\t':
			// After a line of a key, the next piece is key too, however short.
			if !lineStart && !afterColon && word < minKeyLine && !keyWordNext(s[i+1:]) {
				return i
			}
			word = 0
		default:
			return i
		}
		i++
	}
	return i
}

// minKeyLine is the shortest word taken for a line of a key pasted on one line: PEM
// lines are 64 characters, and the words of a message are shorter.
const minKeyLine = 16

// keyWordNext tells whether the text after a space goes on with a key pasted on one
// line: another space, a PEM header's name ("DEK-Info:"), or a line of base64.
func keyWordNext(s string) bool {
	n := 0
	for n < len(s) && (isBase64(s[n]) || strings.IndexByte("=,-:", s[n]) >= 0) {
		n++
	}
	return n == 0 && strings.HasPrefix(s, " ") || n > 0 && s[n-1] == ':' || n >= minKeyLine
}

func isBase64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

// isBase64Run tells the characters of a run of base64 that may be wrapped in lines,
// raw or escaped (\n, \r).
func isBase64Run(c byte) bool {
	return isBase64(c) || c == '=' || c == '\n' || c == '\r' || c == '\\'
}

func redactBase64(s string) string {
	var b strings.Builder
	at := 0                                 // s[:at] is written
	next := make([]int, len(base64Markers)) // where each marker is next found, or -1
	for k, m := range base64Markers {
		next[k] = strings.Index(s, m)
	}
	for {
		i, k := -1, 0
		for j, p := range next {
			if p >= 0 && (i < 0 || p < i) {
				i, k = p, j
			}
		}
		if i < 0 {
			b.WriteString(s[at:])
			return b.String()
		}
		from, to := i, i+len(base64Markers[k])
		for from > at && isBase64Run(s[from-1]) {
			from--
		}
		for to < len(s) && isBase64Run(s[to]) {
			to++
		}
		// Keep the line breaks and escapes around the run as they were.
		for from < i && !isBase64(s[from]) {
			if s[from] == '\\' {
				from++
			}
			from++
		}
		for to > i+len(base64Markers[k]) {
			if s[to-2] == '\\' {
				to -= 2
			} else if !isBase64(s[to-1]) && s[to-1] != '=' {
				to--
			} else {
				break
			}
		}
		b.WriteString(s[at:from])
		b.WriteString(RedactedBase64)
		at = to
		for j, m := range base64Markers {
			if next[j] >= 0 && next[j] < at {
				if p := strings.Index(s[at:], m); p >= 0 {
					next[j] = at + p
				} else {
					next[j] = -1
				}
			}
		}
	}
}

// Terminal returns s redacted, with every rune that is not printable escaped as
// strconv.Quote escapes it (\r, \x1b, \u2028, \xff for a byte that is not UTF-8);
// line feeds and tabs stay, since messages are lines and usages are indented.
func Terminal(s string) string {
	s = String(s)
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f || c == '\n' || c == '\t' {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || !unicode.IsPrint(r) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&0xf, 16))
		case unicode.IsPrint(r):
			b.WriteString(s[i : i+size])
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

// NewWriter returns a writer that passes every Write through Terminal. Each Write is
// taken whole: the fmt functions write a message in one call.
func NewWriter(w io.Writer) io.Writer {
	if _, ok := w.(writer); ok {
		return w
	}
	return writer{w}
}

type writer struct{ w io.Writer }

func (w writer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(w.w, Terminal(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
