package doctor

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"

	"github.com/aggapi/aggapi/fn/pki"
)

// MaxEndpointsDialed bounds the TLS handshakes per Service.
const MaxEndpointsDialed = 3

// checkEndpointTLS dials what the kube-aggregator dials — each ready endpoint, or an
// ExternalName's host — and checks the certificate it actually serves against the live
// caBundle for <service>.<namespace>.svc, and against the Secret the pods mount. The
// kube-apiserver's service proxy cannot carry a raw TLS handshake and a port-forward
// needs a kubelet, so the doctor dials the address itself; where that address is not
// reachable from where the doctor runs (pod networks usually are not), it says so.
func (d *Doctor) checkEndpointTLS(ctx context.Context, what string, live *apiregv1.APIService, srv *server) {
	if !d.DialEndpoints || srv.svc == nil {
		return
	}
	var targets []endpoint
	switch {
	case srv.svc.Spec.Type == corev1.ServiceTypeExternalName:
		targets = []endpoint{{IP: srv.svc.Spec.ExternalName, Port: srv.ref.Port}}
	default:
		targets = srv.endpoints
	}
	if len(targets) == 0 {
		return
	}
	if len(targets) > MaxEndpointsDialed {
		targets = targets[:MaxEndpointsDialed]
	}
	roots, err := pki.ParseCertsPEM(live.Spec.CABundle)
	if err != nil || len(roots) == 0 {
		return // the caBundle's own finding says it
	}
	pool := x509.NewCertPool()
	for _, c := range roots {
		pool.AddCert(c)
	}
	secretLeaf := d.secretLeaves[srv.ref.service()]
	for _, ep := range targets {
		addr := net.JoinHostPort(ep.IP, strconv.Itoa(int(ep.Port)))
		who := addr
		if ep.Pod != "" {
			who = "pod " + ep.Pod + " (" + addr + ")"
		}
		if d.unreachableNet {
			d.note(what, "the certificate %s serves is not checked: an earlier endpoint did not answer from here (run the doctor inside the cluster network, or kubectl port-forward and compare)", who)
			continue
		}
		chain, err := d.handshake(ctx, addr, srv.ref.serverName())
		if err != nil {
			var netErr net.Error
			if errors.As(err, &netErr) && netErr.Timeout() {
				d.unreachableNet = true
			}
			d.note(what, "the certificate %s serves is not checked: %v (pod networks are often not reachable from where the doctor runs)", who, err)
			continue
		}
		leaf := chain[0]
		inter := x509.NewCertPool()
		for _, c := range chain[1:] {
			inter.AddCert(c)
		}
		_, verr := leaf.Verify(x509.VerifyOptions{DNSName: srv.ref.serverName(), Roots: pool, Intermediates: inter,
			CurrentTime: d.Now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		sameAsSecret := secretLeaf != nil && bytes.Equal(secretLeaf.Raw, leaf.Raw)
		served := fmt.Sprintf("%s serves %q (issuer %q, until %s)", who, leaf.Subject.CommonName, leaf.Issuer.CommonName, leaf.NotAfter.UTC().Format("2006-01-02"))
		switch {
		case verr != nil:
			fix := "re-render and re-apply so the Secret and the caBundle come from one render, then restart the pods so they load the Secret"
			if secretLeaf != nil && !sameAsSecret {
				fix = "the pods serve a certificate other than the Secret's: restart them (kubectl rollout restart) so they load the current Secret, and check which Secret they mount"
			}
			d.fail(CauseEndpointServesOtherCert, what, fix, "%s, which does not verify against the live caBundle for %s: %v", served, srv.ref.serverName(), verr)
		case secretLeaf != nil && !sameAsSecret:
			d.warn(CauseEndpointServesOtherCert, what, "restart the pods (kubectl rollout restart) so they serve the current Secret before the old certificate expires",
				"%s: it verifies, but is not the certificate in the Secret the pods mount (the pods have not reloaded it)", served)
		default:
			d.ok(what, "%s, which verifies against the live caBundle for %s", served, srv.ref.serverName())
		}
	}
}

// handshake completes a TLS handshake with addr (bounded by DialTimeout) and returns
// the chain the server presents; it verifies nothing itself.
func (d *Doctor) handshake(ctx context.Context, addr, serverName string) ([]*x509.Certificate, error) {
	timeout := d.DialTimeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dialer := &tls.Dialer{Config: &tls.Config{
		ServerName: serverName,
		MinVersion: tls.VersionTLS12,
		// The chain is verified after the handshake, against the live caBundle and
		// with a report of what was served; nothing is sent over this connection.
		InsecureSkipVerify: true, //nolint:gosec // verified by the caller; no data is exchanged
	}}
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, errors.New("the server presented no certificate")
	}
	return certs, nil
}
