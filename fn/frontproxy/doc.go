// Package frontproxy makes the kube-apiserver's aggregation-layer credentials: the
// request-header (front-proxy) CA and the proxy client certificate the kube-apiserver
// presents to extension API servers, plus the exact flags that use them.
package frontproxy
