// Package doctor checks a live cluster for what aggregated APIs need and names the
// cause of each problem, with its evidence, its fix and, for causes in the platform,
// what to ask the provider. Without manifests or a config it checks every APIService
// served by a Service, whoever installed it.
//
// Where each job is:
//   - doctor.go: the Doctor, its results and the order of the checks (Run);
//   - causes.go: the stable cause ids (docs/cli.md has a row for each);
//   - cluster.go: the API, the caller's permission, the request-header CA, discovery
//     of the APIServices to check;
//   - apiservice.go: one APIService — its manager, Available, caBundle, the Secret;
//   - diagnose.go and network.go: the Available condition's reason and message read
//     into a cause (the dialed hop and port, the platform's firewall rule);
//   - workload.go, serviceaccount.go, networkpolicy.go: what serves an APIService —
//     ports, pods, the ServiceAccount's permissions, NetworkPolicies;
//   - endpointtls.go: the certificate each endpoint actually serves;
//   - certmanager.go: cert-manager's Certificate and cainjector;
//   - clusterwide.go: namespaces stuck Terminating, empty discovery, flapping;
//   - managers.go: who installed an object, and two installers claiming one;
//   - cache.go and bounds.go: every read once per run, and bounded;
//   - report.go and main.go: the text and JSON report, the exit codes, the flags.
//
// It is the only package that links client-go, and it is built into its own binary
// (fn/cmd/aggapi-doctor): client-go's package initialisation would cost the KRM
// function ~13 ms on every run. `aggapi doctor` executes that binary.
package doctor
