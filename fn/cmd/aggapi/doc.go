// Command aggapi is a KRM function: it reads a ResourceList whose functionConfig is an
// aggapi.dev/v1alpha1 AggregatedAPI and writes it back with every object an extension
// API server needs behind the kube-aggregator.
package main
