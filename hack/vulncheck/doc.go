// Command vulncheck reads govulncheck's JSON stream on stdin and fails on every
// vulnerability the code calls that allow.txt does not name with a reason. It exists
// for the findings that no change of ours can fix: the standard library of the Go on
// the machine, fixed only in a newer toolchain. Each entry says which Go fixes it, so
// the list shrinks when the toolchain moves; an entry no longer found is reported.
package main
