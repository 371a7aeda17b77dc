// Command crdjson writes the openAPIV3Schema of the AggregatedAPI CRD as JSON next to
// it, so the function decodes its schema with encoding/json instead of parsing YAML on
// every run (make generate runs it; a test keeps the two in step).
package main
