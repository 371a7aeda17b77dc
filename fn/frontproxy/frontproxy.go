package frontproxy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/aggapi/aggapi/fn/pki"
)

// File names written into the output directory (kubeadm's names).
const (
	CAFile   = "front-proxy-ca.crt"
	CertFile = "front-proxy-client.crt"
	KeyFile  = "front-proxy-client.key"
)

// Options of Ensure.
type Options struct {
	Dir          string
	FlagDir      string // the directory as the kube-apiserver sees it; default: Dir, absolute
	ClientName   string // CN of the proxy client, and --requestheader-allowed-names
	KeyAlgorithm pki.KeyAlgorithm
	Validity     time.Duration
	RenewBefore  time.Duration
	// AggregatorRouting adds --enable-aggregator-routing=true, for control planes that
	// do not run kube-proxy and so cannot reach Service IPs.
	AggregatorRouting bool
}

// Result tells what Ensure did.
type Result struct {
	Flags   []string
	Issued  bool
	Reason  string // why a new certificate was issued
	Expires time.Time
}

// Ensure reuses the credentials in o.Dir while they are valid for o, and otherwise
// issues a new CA and client certificate (the CA's key is never written: the next
// renewal makes a new CA, which the kube-apiserver publishes to extension servers
// through the extension-apiserver-authentication ConfigMap).
func Ensure(o Options, now time.Time) (*Result, error) {
	if o.ClientName == "" || o.Dir == "" {
		return nil, fmt.Errorf("a directory and a client name are required")
	}
	flagDir := o.FlagDir
	if flagDir == "" {
		abs, err := filepath.Abs(o.Dir)
		if err != nil {
			return nil, err
		}
		flagDir = abs
	}
	res := &Result{Flags: Flags(flagDir, o.ClientName, o.AggregatorRouting)}
	req := pki.ClientCertRequest{CommonName: o.ClientName, KeyAlgorithm: o.KeyAlgorithm, NotAfter: now.Add(o.Validity)}

	m, err := read(o.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		res.Reason = "no credentials in " + o.Dir
	case err != nil:
		return nil, err
	default:
		p, err := m.CheckClient(req, o.RenewBefore, now)
		if err == nil {
			res.Expires = p.Leaf.NotAfter
			return res, nil
		}
		res.Reason = err.Error()
	}

	ca, err := pki.NewCertificateAuthority("aggapi front-proxy CA", o.KeyAlgorithm, now, req.NotAfter)
	if err != nil {
		return nil, err
	}
	kp, err := ca.NewClientCert(req, now)
	if err != nil {
		return nil, err
	}
	key, err := pki.EncodePrivateKeyPEM(kp.Key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{CAFile, pki.EncodeCertPEM(ca.Cert), 0o644},
		{KeyFile, key, 0o600},
		{CertFile, pki.EncodeCertPEM(kp.Cert), 0o644},
	} {
		if err := writeAtomic(filepath.Join(o.Dir, f.name), f.data, f.mode); err != nil {
			return nil, err
		}
	}
	res.Issued, res.Expires = true, kp.Cert.NotAfter
	return res, nil
}

// Flags are the kube-apiserver flags of the aggregation layer.
func Flags(dir, clientName string, aggregatorRouting bool) []string {
	flags := []string{
		"--requestheader-client-ca-file=" + filepath.Join(dir, CAFile),
		"--requestheader-allowed-names=" + clientName,
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-username-headers=X-Remote-User",
		"--proxy-client-cert-file=" + filepath.Join(dir, CertFile),
		"--proxy-client-key-file=" + filepath.Join(dir, KeyFile),
	}
	if aggregatorRouting {
		flags = append(flags, "--enable-aggregator-routing=true")
	}
	return flags
}

func read(dir string) (pki.ServingMaterial, error) {
	var m pki.ServingMaterial
	var err error
	if m.CAPEM, err = os.ReadFile(filepath.Join(dir, CAFile)); err != nil {
		return m, err
	}
	if m.CertPEM, err = os.ReadFile(filepath.Join(dir, CertFile)); err != nil {
		return m, err
	}
	m.KeyPEM, err = os.ReadFile(filepath.Join(dir, KeyFile))
	return m, err
}

// writeAtomic writes through a temporary file, so a reader never sees half a file.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".aggapi-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
