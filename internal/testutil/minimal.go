package testutil

import "strings"

// MinimalConfig is the smallest valid AggregatedAPI config named name (its group is
// name.example.com, one version v1alpha1), as YAML. It ends inside spec.server, so a
// test adds server fields by appending lines indented four spaces and other spec fields
// by appending lines indented two; it changes the fields it holds by strings.Replace.
func MinimalConfig(name string) string {
	return strings.NewReplacer("NAME", name).Replace(`apiVersion: aggapi.dev/v1alpha1
kind: AggregatedAPI
metadata:
  name: NAME
spec:
  group: NAME.example.com
  versions: [{name: v1alpha1}]
  server:
    image: registry.k8s.io/e2e-test-images/sample-apiserver:1.29.2
`)
}
