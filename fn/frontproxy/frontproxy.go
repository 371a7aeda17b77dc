package frontproxy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aggapi/aggapi/fn/internal/boundedfile"
	"github.com/aggapi/aggapi/fn/pki"
)

// File names written into the output directory (kubeadm's names).
const (
	CAFile   = "front-proxy-ca.crt"
	CertFile = "front-proxy-client.crt"
	KeyFile  = "front-proxy-client.key"
)

// Bounds of the options a user gives.
const (
	// MinValidity: a shorter certificate would expire before anyone rolls it out.
	MinValidity = time.Hour
	// MaxValidity: kubeadm's CA lifetime; longer gives a key nobody rotates.
	MaxValidity = 10 * 365 * 24 * time.Hour
	// maxClientName is X.509's upper bound for a commonName (ub-common-name).
	maxClientName = 64
)

// CheckClientName accepts a name the kube-apiserver takes in
// --requestheader-allowed-names and that prints as one flag on one line: 1 to 64
// letters, digits and . _ : @ -, starting with a letter or digit. A comma would split
// it into two names, and a space, quote or newline would break the printed flags.
func CheckClientName(name string) error {
	if name == "" || len(name) > maxClientName {
		return fmt.Errorf("must be 1 to %d characters, not %d", maxClientName, len(name))
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && strings.ContainsRune("._:@-", r):
		default:
			return fmt.Errorf("character %q at %d: use letters, digits and . _ : @ - (starting with a letter or digit)", r, i)
		}
	}
	return nil
}

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
	// KeyModeWas is the mode of a reused key file that others could read; Ensure made
	// it 0600.
	KeyModeWas os.FileMode
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
	var tooLarge *boundedfile.TooLargeError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		res.Reason = "no credentials in " + o.Dir
	case errors.As(err, &tooLarge):
		res.Reason = err.Error() // garbage, replaced like any other
	case err != nil: // a device, FIFO or directory in place of a file is not ours to replace
		return nil, err
	default:
		p, err := m.CheckClient(req, o.RenewBefore, now)
		if err == nil {
			res.Expires = p.Leaf.NotAfter
			if res.KeyModeWas, err = tightenKeyMode(filepath.Join(o.Dir, KeyFile)); err != nil {
				return nil, err
			}
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

// tightenKeyMode makes a reused key file 0600, the mode Ensure writes, when group or
// others may read it; it returns the mode it had (0 when it was already private).
func tightenKeyMode(path string) (os.FileMode, error) {
	info, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	if info.Mode().Perm()&0o077 == 0 {
		return 0, nil
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return 0, fmt.Errorf("%s is readable by others (%v) and cannot be made 0600: %w", path, info.Mode().Perm(), err)
	}
	return info.Mode().Perm(), nil
}

// read reads the three files as every input is read: regular files, at most 64 KiB.
func read(dir string) (pki.ServingMaterial, error) {
	var m pki.ServingMaterial
	var err error
	get := func(name string) []byte {
		var b []byte
		if err == nil {
			if b, err = boundedfile.Read(filepath.Join(dir, name), pki.MaxPEMBytes); err != nil && !errors.Is(err, fs.ErrNotExist) {
				err = fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
			}
		}
		return b
	}
	m.CAPEM, m.CertPEM, m.KeyPEM = get(CAFile), get(CertFile), get(KeyFile)
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
