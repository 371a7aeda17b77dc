// Package redact makes a message safe to show: private-key material is replaced
// (PEM blocks whose type names a PRIVATE KEY, whole or cut short, and base64 that
// encodes one), and on a terminal every rune that is not printable is escaped as
// strconv.Quote would, so a value holding \r or ESC cannot rewrite what is shown.
// The commands apply it where messages leave the process (NewWriter for stderr,
// String for the ResourceList's results), not at each error site.
package redact
