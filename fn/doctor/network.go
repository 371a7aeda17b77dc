package doctor

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// Network is what the doctor knows of the path from the control plane to an
// APIService's server: it turns "i/o timeout" into which hop and which port.
type Network struct {
	// ServiceIP is the Service's ClusterIP ("" when unknown or headless).
	ServiceIP string
	// ExternalName is an ExternalName Service's name (or address).
	ExternalName string
	// Endpoints maps the Service's endpoint addresses to the pods behind them.
	Endpoints map[string]string
	// TargetPort is the pod port the Service sends the APIService's port to (0 if unknown).
	TargetPort int32
	// Platform is the managed Kubernetes the nodes' labels show: GKE, EKS, AKS or "".
	Platform string
}

// Dialed is the address and port the kube-aggregator dialed, read from the message of
// its Available condition.
type Dialed struct {
	Host string
	Port int32
}

// The aggregator's messages name the URL ("failing or missing response from
// https://10.0.0.12:443/apis/...") and Go's dialer the socket ("dial tcp 10.0.0.12:443:").
var (
	dialTCP  = regexp.MustCompile(`dial tcp (\[[0-9A-Fa-f:.]+\]|[0-9.]+):(\d{1,5})`)
	httpsURL = regexp.MustCompile(`https://(\[[0-9A-Fa-f:.]+\]|[^/\s:"']+):(\d{1,5})`)
)

// ParseDialed reads the dialed address from a condition message; ok is false when
// the message names none.
func ParseDialed(msg string) (Dialed, bool) {
	for _, re := range []*regexp.Regexp{dialTCP, httpsURL} {
		if m := re.FindStringSubmatch(msg); m != nil {
			port, err := strconv.ParseUint(m[2], 10, 16)
			if err != nil {
				continue
			}
			return Dialed{Host: strings.Trim(m[1], "[]"), Port: int32(port)}, true
		}
	}
	return Dialed{}, false
}

// route says which hop the dialed address is: the Service's ClusterIP (the
// kube-apiserver relies on kube-proxy or the CNI to route it on its own host), a pod
// (--enable-aggregator-routing: it dials the endpoint directly), or another name.
func (nw Network) route(d Dialed) string {
	switch pod, isPod := nw.Endpoints[d.Host]; {
	case nw.ServiceIP != "" && d.Host == nw.ServiceIP:
		return fmt.Sprintf("Service routing: the kube-apiserver dialed the ClusterIP %s:%d, which kube-proxy (or the CNI) on the control-plane host must translate to a pod", d.Host, d.Port)
	case nw.ExternalName != "" && d.Host == nw.ExternalName:
		return fmt.Sprintf("the kube-apiserver dialed the Service's externalName %s:%d", d.Host, d.Port)
	case isPod:
		return fmt.Sprintf("aggregator routing: the kube-apiserver dialed pod %s at %s:%d directly", pod, d.Host, d.Port)
	case net.ParseIP(d.Host) == nil:
		return fmt.Sprintf("the kube-apiserver dialed %s:%d", d.Host, d.Port)
	}
	return fmt.Sprintf("the kube-apiserver dialed %s:%d (not the Service's ClusterIP nor a current endpoint: the message may be stale)", d.Host, d.Port)
}

// dialed is "; <route>" for a message that names an address, else "".
func (nw Network) dialed(msg string) string {
	d, ok := ParseDialed(msg)
	if !ok {
		return ""
	}
	return "; " + nw.route(d)
}

// firewallPort is the port a firewall between the control plane and the nodes must
// admit: the pod's port, which is what reaches the node whichever hop dialed.
func (nw Network) firewallPort(msg string) int32 {
	if nw.TargetPort != 0 {
		return nw.TargetPort
	}
	if d, ok := ParseDialed(msg); ok {
		return d.Port
	}
	return 0
}

// unreachable is the diagnosis of a timeout: the packets are dropped on the way.
func (nw Network) unreachable(msg string) Diagnosis {
	port := nw.firewallPort(msg)
	portText := "the server's target port"
	if port != 0 {
		portText = fmt.Sprintf("TCP %d", port)
	}
	diag := Diagnosis{ID: CauseControlPlaneCannotReach,
		Cause: "timeout: the kube-apiserver cannot reach the server (a firewall or NetworkPolicy drops the packets, or the server hangs)" + nw.dialed(msg),
		Fix:   fmt.Sprintf("admit the control plane to the pods on %s (aggapi: networkPolicy.apiServerCIDRs; konnectivity agents or the overlay's tunnel addresses are the source on some platforms); control planes without kube-proxy need --enable-aggregator-routing=true", portText),
		Ask:   fmt.Sprintf("a firewall rule that admits the control plane to the nodes on %s", portText),
	}
	switch nw.Platform {
	case "GKE":
		diag.Fix += fmt.Sprintf("; GKE private cluster: add a VPC firewall rule from the control plane's range (gcloud container clusters describe CLUSTER --format='value(privateClusterConfig.masterIpv4CidrBlock)') to the nodes' network tag, allowing %s", strings.ToLower(strings.ReplaceAll(portText, " ", ":")))
		diag.Ask = fmt.Sprintf("GKE: a firewall rule from the control plane's CIDR (masterIpv4CidrBlock) to the node pool's tag allowing %s (GKE admits only 443 and 10250 by default)", portText)
	case "EKS":
		diag.Fix += fmt.Sprintf("; EKS: allow inbound %s on the nodes' security group from the cluster security group", portText)
		diag.Ask = fmt.Sprintf("EKS: an inbound rule for %s on the node security group from the cluster (control-plane) security group", portText)
	case "AKS":
		diag.Ask = fmt.Sprintf("AKS: whether a network security group or konnectivity (tunnel) blocks %s to the nodes", portText)
	}
	return diag
}

// platformOf names the managed Kubernetes a node's labels show.
func platformOf(labels map[string]string) string {
	for k := range labels {
		switch {
		case strings.HasPrefix(k, "cloud.google.com/gke-"):
			return "GKE"
		case strings.HasPrefix(k, "eks.amazonaws.com/"), strings.HasPrefix(k, "alpha.eksctl.io/"):
			return "EKS"
		case strings.HasPrefix(k, "kubernetes.azure.com/"):
			return "AKS"
		}
	}
	return ""
}
