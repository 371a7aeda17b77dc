// Package yamlenc writes typed Kubernetes objects as YAML nodes (kyaml's yaml.Node)
// with encoding/json's rules, so a render needs neither json.Marshal nor a YAML parse
// of its output.
//
// It exists for start-up time, which every pipeline run pays: the function is a
// short-lived process, and both library routes cost more than the rest of a render.
// apimachinery's unstructured converter (runtime.DefaultUnstructuredConverter) cost
// ~25 ms to build its reflection caches on the first Deployment of a process;
// json.Marshal builds an encoder for every type reachable from a Deployment (every
// volume source, probe, ...) on first use, ~17 M instructions, about what a whole first
// render costs now (~19 M, callgrind). This package walks the values that are set,
// which touch a few dozen types (CONTRIBUTING.md, "Speed", has the whole-process
// figures).
//
// The price is a second implementation of encoding/json's rules, fenced in here and
// held to json.Marshal: TestEncodeMatchesJSON over every object of every golden
// config, TestEncodeMatchesJSONOnEdges over the rules those objects do not reach, and
// FuzzEncode over randomly filled core, apps, rbac, policy, networking and
// apiregistration objects (make fuzz).
package yamlenc
