// Package verify checks rendered manifests offline, the way the kube-aggregator will
// use them: for every APIService, the Service it names, the Deployment behind it, the
// serving certificate against the caBundle, and the RBAC the server needs.
package verify
