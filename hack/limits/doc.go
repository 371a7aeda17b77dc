// Command limits runs the function on hostile configs under a 1 GiB address-space limit
// (ulimit -v 1048576) and a 10 s deadline, and prints the time, peak RSS and first
// line of stderr of each; it exits 1 if any case crashes, times out, exits other than
// 1, or says something other than expected:
//
//	go run ./hack/limits [-bin bin/aggapi]
//
// The cases are configs made to hang a render or exhaust its memory: quantities that make
// resource.ParseQuantity compute 10^999999990, 150,000 keys in one mapping (yaml.v3's
// pairwise duplicate-key check), long lists, an 8 MB value echoed into stderr, alias
// expansion and deep nesting. Timings are measurements, not assertions: tests do not
// time anything.
package main
