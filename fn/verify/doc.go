// Package verify checks rendered manifests offline, the way the kube-aggregator will
// use them: for every APIService, the Service it names, the Deployment behind it, the
// serving certificate against the caBundle, and the RBAC the server needs. A Reader
// reads them with bounds (regular files, a total size, one document at a time) and a
// Set keeps only the fields the checks read, so memory follows the checks, not the input.
package verify
