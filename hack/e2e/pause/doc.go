// Command pause is the process of the e2e node's pod sandbox image: it holds a
// pod's namespaces open until it is told to stop, as Kubernetes' pause does.
package main
