package testutil

import (
	"fmt"
	"io"
)

// WriteDeployments writes n ordinary Deployments (~850 bytes each) as the entries of a
// ResourceList's items list: the pass-through load of the memory bench and of the
// hostile-input test.
func WriteDeployments(w io.Writer, n int) {
	for i := range n {
		fmt.Fprintf(w, deploymentItem, i, i%20)
	}
}

// deploymentItem: %[1]d is the Deployment's number, %[2]d its team.
const deploymentItem = `- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: app-%[1]d
    namespace: team-%[2]d
    labels:
      app.kubernetes.io/name: app-%[1]d
      app.kubernetes.io/part-of: shop
    annotations:
      config.kubernetes.io/path: apps/app-%[1]d.yaml
  spec:
    replicas: 2
    selector:
      matchLabels:
        app.kubernetes.io/name: app-%[1]d
    template:
      metadata:
        labels:
          app.kubernetes.io/name: app-%[1]d
      spec:
        containers:
        - name: app
          image: registry.example.com/shop/app-%[1]d:v1.2.3
          args: ["--port=8080", "--log-level=info"]
          ports:
          - containerPort: 8080
            name: http
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 256Mi}
          readinessProbe:
            httpGet: {path: /healthz, port: http}
`
