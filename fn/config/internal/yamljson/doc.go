// Package yamljson reads the function config's YAML node as JSON in one pass bounded
// by limits, with the values yaml.v3 would decode, so the schema checker and the strict
// decoder of fn/config see what they would have seen: a hostile config ends in an error
// at the limit, not in a slow or large decode.
package yamljson
