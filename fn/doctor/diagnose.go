package doctor

import (
	"fmt"
	"regexp"
	"strings"
)

// Ref is where an APIService sends its requests: the Service and the port it dials.
type Ref struct {
	APIService string
	Namespace  string
	Service    string
	Port       int32
}

func (r Ref) service() string { return r.Namespace + "/" + r.Service }

// serverName is the name the kube-aggregator verifies the serving certificate for.
func (r Ref) serverName() string { return r.Service + "." + r.Namespace + ".svc" }

// Diagnosis is the likely cause of an APIService's Available condition and its fix.
type Diagnosis struct {
	// OK is true for the reasons of an Available APIService.
	OK bool
	// ID is the cause's id (causes.go).
	ID    string
	Cause string
	Fix   string
	// Ask is what to ask the cluster's provider, for causes in the platform.
	Ask string
}

var badStatus = regexp.MustCompile(`bad status from \S+: (\d{3})`)

// Explain maps the reason and message of an APIService's Available condition, as
// the kube-aggregator's availability controller sets them, to the likely cause and
// a one-line fix.
func Explain(reason, message string, ref Ref) Diagnosis {
	return explain(reason, message, ref, Network{})
}

func explain(reason, message string, ref Ref, nw Network) Diagnosis {
	svc, ns := ref.service(), ref.Namespace
	describe := fmt.Sprintf("kubectl -n %s describe service %s", ns, ref.Service)
	switch reason {
	case "Passed", "Local":
		return Diagnosis{OK: true}
	case "ServiceNotFound":
		return Diagnosis{ID: CauseServiceNotFound,
			Cause: fmt.Sprintf("the Service %s the APIService names does not exist", svc),
			Fix:   fmt.Sprintf("apply the rendered Service %s (kubectl apply -f rendered.yaml), or correct the APIService's spec.service", svc),
		}
	case "ServiceAccessError", "EndpointsAccessError":
		return Diagnosis{ID: CauseInformersTransient,
			Cause: "the kube-aggregator could not read the Service or its EndpointSlices (its own informers failed)",
			Fix:   "usually transient: run the doctor again in a minute; if it persists, read the kube-apiserver's log for errors about " + svc,
		}
	case "ServicePortError":
		return Diagnosis{ID: CauseServicePortMissing,
			Cause: fmt.Sprintf("the Service %s has no port %d, the port the APIService dials", svc, ref.Port),
			Fix:   fmt.Sprintf("make the APIService's spec.service.port one of the Service's ports (aggapi: spec.service.port) and re-apply both; %s", describe),
		}
	case "EndpointsNotFound":
		return Diagnosis{ID: CauseEndpointsNotFound,
			Cause: fmt.Sprintf("the Service %s has no EndpointSlices", svc),
			Fix:   fmt.Sprintf("give the Service a selector that matches the server's pods, and check that kube-controller-manager runs (%s)", describe),
		}
	case "MissingEndpoints":
		return Diagnosis{ID: CauseNoReadyEndpoints,
			Cause: fmt.Sprintf("no ready pods behind the Service %s", svc),
			Fix:   fmt.Sprintf("kubectl -n %s get pods,deployments: check that the pods run, that their readiness probe passes and their logs; the Service's selector must match them", ns),
		}
	case "FailedDiscoveryCheck":
		return explainDiscovery(message, ref, nw)
	case "":
		return Diagnosis{ID: CauseNotReported,
			Cause: "the kube-aggregator has not reported on the APIService yet",
			Fix:   "wait a few seconds and run the doctor again; if it stays, the kube-apiserver's aggregator is not running (read its log)",
		}
	}
	return Diagnosis{ID: CauseUnknownReason,
		Cause: fmt.Sprintf("reason %q is not one the doctor knows", reason),
		Fix:   fmt.Sprintf("kubectl describe apiservice %s", ref.APIService),
	}
}

// explainDiscovery reads the error of the aggregator's GET /apis/<group>/<version>.
func explainDiscovery(msg string, ref Ref, nw Network) Diagnosis {
	svc, ns := ref.service(), ref.Namespace
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(msg, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("x509: certificate signed by unknown authority", "unknown authority"):
		return Diagnosis{ID: CauseX509UnknownAuthority,
			Cause: "x509: the caBundle does not match the CA of the serving certificate",
			Fix:   fmt.Sprintf("re-render and re-apply so the Secret and every caBundle come from one render; check which Secret the pods in %s mount (it must be the rendered one) and restart them after it changed", ns),
		}
	case has("x509: certificate has expired or is not yet valid"):
		return Diagnosis{ID: CauseX509Expired,
			Cause: "x509: the serving certificate (or its CA) has expired or is not valid yet",
			Fix:   "re-render (aggapi renews inside renewBefore), re-apply and let the pods roll; check the clocks of the nodes and the control plane",
		}
	case has("x509: certificate is valid for", "x509: certificate is not valid for any names", "because it doesn't contain any IP SANs", "x509: certificate relies on legacy Common Name"):
		return Diagnosis{ID: CauseX509WrongName,
			Cause: fmt.Sprintf("x509: the serving certificate is not for %s, the name the kube-aggregator verifies", ref.serverName()),
			Fix:   "re-render (the certificate follows spec.service.name and spec.namespace) and re-apply; make sure the pods mount the rendered Secret",
		}
	case has("x509:"):
		return Diagnosis{ID: CauseX509Invalid,
			Cause: "x509: the serving certificate does not verify against the caBundle",
			Fix:   "re-render and re-apply so the Secret and every caBundle come from one render, then restart the pods",
		}
	case has("connection refused"):
		return Diagnosis{ID: CauseConnectionRefused,
			Cause: "connection refused: nothing listens where the APIService points (the server is down, or a port is wrong)" + nw.dialed(msg),
			Fix:   fmt.Sprintf("check that the container listens on the Service's targetPort (aggapi: spec.server.port) and the pods' logs (kubectl -n %s logs deployment/...); %s", ns, "the APIService port must be a Service port"),
		}
	case has("Address is not allowed"):
		return Diagnosis{ID: CauseAddressNotAllowed,
			Cause: "Address is not allowed: the control plane may not dial the pod's address" + nw.dialed(msg) + "; on EKS this is a pod network the control plane is not part of (an overlay CNI such as Calico or Cilium in overlay mode)",
			Fix:   "run the server with hostNetwork: true on a free host port (set dnsPolicy: ClusterFirstWithHostNet, and the Service's targetPort to that port), or use a CNI whose pod addresses the control plane can reach (the AWS VPC CNI)",
			Ask:   "whether the control plane can reach pod addresses of this CNI; if not, that the server must use host networking",
		}
	case has("no such host", "server misbehaving"):
		return Diagnosis{ID: CauseBackendNameUnresolved,
			Cause: "the kube-apiserver cannot resolve the backend's name",
			Fix:   fmt.Sprintf("check the Service %s (an ExternalName must resolve from the control plane)", svc),
		}
	case has("i/o timeout", "Client.Timeout exceeded", "context deadline exceeded", "timed out waiting for", "no route to host", "network is unreachable", "TLS handshake timeout"):
		return nw.unreachable(msg)
	case has("server gave HTTP response to HTTPS client"):
		return Diagnosis{ID: CausePlainHTTP,
			Cause: "the server speaks plain HTTP; the kube-aggregator only speaks HTTPS",
			Fix:   "serve TLS with the mounted certificate (aggapi: spec.server.flags tlsCertFile/tlsPrivateKeyFile)",
		}
	case has("no endpoints available for service"):
		return explain("MissingEndpoints", msg, ref, nw)
	case has("no service port"):
		return explain("ServicePortError", msg, ref, nw)
	}
	if m := badStatus.FindStringSubmatch(msg); m != nil {
		switch code := m[1]; {
		case code == "401":
			return Diagnosis{ID: CauseFrontProxyNotAllowed,
				Cause: "HTTP 401: the server does not accept the kube-apiserver's front-proxy client certificate (it cannot read the request-header CA, or the CN is not allowed)",
				Fix:   "bind the server's ServiceAccount to Role extension-apiserver-authentication-reader in kube-system, and check requestheader-allowed-names in ConfigMap kube-system/extension-apiserver-authentication",
			}
		case code == "403":
			return Diagnosis{ID: CauseServerForbids,
				Cause: "HTTP 403: the server forbids the aggregator's request (its delegated authorization fails)",
				Fix: "bind the server's ServiceAccount to ClusterRole system:auth-delegator, and read the server's log for SubjectAccessReview errors " +
					"(a server that has just started answers 403 until it has read the request-header CA: if it started under a minute ago, run doctor again)",
			}
		case code == "404":
			return Diagnosis{ID: CauseGroupVersionNotServed,
				Cause: "HTTP 404: the server does not serve this group and version",
				Fix:   "make spec.group and spec.versions match what the server serves (or deploy the server build that serves them)",
			}
		case code[0] == '5':
			return Diagnosis{ID: CauseServerUnhealthy,
				Cause: "HTTP " + code + ": the server answers but is not healthy or not ready",
				Fix:   "read the server's log and its /readyz (it needs etcd or its other backends, and RBAC to read what it watches)",
			}
		default:
			return Diagnosis{ID: CauseDiscoveryFailed,
				Cause: "HTTP " + code + " from the server's discovery endpoint",
				Fix:   "the server must answer GET /apis/<group>/<version> with 200; read its log",
			}
		}
	}
	return Diagnosis{ID: CauseDiscoveryFailed,
		Cause: "the kube-aggregator's discovery request to the server failed",
		Fix:   "read the message above and the server's log",
	}
}
