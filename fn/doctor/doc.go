// Package doctor checks a live cluster for what an aggregated API needs, and says for
// each problem what to fix: the APIService API is served, the caller may create
// APIServices, the kube-apiserver's aggregation layer is configured (ConfigMap
// kube-system/extension-apiserver-authentication), and for every APIService its
// Available condition, its caBundle against the rendered one, and the serving
// certificate behind its Service against the live caBundle.
//
// It is the only package that links client-go, and it is built into its own binary
// (fn/cmd/aggapi-doctor): client-go's package initialisation would cost the KRM
// function ~13 ms on every run. `aggapi doctor` executes that binary.
package doctor
