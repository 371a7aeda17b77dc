// Package pki issues and checks the certificates of an aggregated API and of the
// kube-apiserver's aggregation layer: CAs, the serving and client certificates they
// sign, PEM encoding and size-bounded parsing, and the checks that decide whether a
// certificate can be reused or is due for renewal. It imports only the standard
// library and knows nothing of Kubernetes objects.
//
// Time comes in from the caller (every function that needs it takes now).
// Randomness is crypto/rand's: keys come from a KeySource (GenerateKey unless an
// Issuer is given another, as tests do); serial numbers and signatures read
// crypto/rand directly.
package pki
