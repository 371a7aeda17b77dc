package frontproxy

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode"

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

// maxDir bounds a directory's path (Linux's PATH_MAX).
const maxDir = 4096

// CheckDir accepts a directory that prints inside one flag on one line, as
// CheckClientName does a name: letters, digits and / . _ - + @ : , = ~. A newline
// would print flags of its own, a space or quote would split the flag in a shell, and
// a control character would rewrite the terminal.
func CheckDir(dir string) error {
	if dir == "" || len(dir) > maxDir {
		return fmt.Errorf("must be 1 to %d bytes, not %d", maxDir, len(dir))
	}
	for i, r := range dir {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == filepath.Separator:
		case strings.ContainsRune("/._-+@:,=~", r):
		default:
			return fmt.Errorf("character %q at byte %d: use letters, digits and / . _ - + @ : , = ~", r, i)
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
	// Keys makes the CA's and the client's keys; nil: pki.GenerateKey.
	Keys pki.KeySource
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
// through the extension-apiserver-authentication ConfigMap). The files are read and
// written inside o.Dir only (os.Root), never through a symlink, and a new set is
// written whole or not at all (writeSet).
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
	if err := CheckDir(flagDir); err != nil {
		return nil, &FlagDirError{Dir: flagDir, Given: o.FlagDir != "", Err: err}
	}
	res := &Result{Flags: Flags(flagDir, o.ClientName, o.AggregatorRouting)}
	req := pki.ClientCertRequest{CommonName: o.ClientName, KeyAlgorithm: o.KeyAlgorithm, NotAfter: now.Add(o.Validity)}

	// kubeadm's mode for its pki directory; an existing directory keeps its own.
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(o.Dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()

	m, err := read(root)
	var tooLarge *boundedfile.TooLargeError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		res.Reason = "no credentials in " + o.Dir
	case errors.As(err, &tooLarge):
		res.Reason = err.Error() // garbage, replaced like any other
	case err != nil: // a symlink, device, FIFO or directory in place of a file is not ours to replace
		return nil, err
	default:
		p, err := m.CheckClient(req, o.RenewBefore, now)
		if err == nil {
			res.Expires = p.Leaf.NotAfter
			if res.KeyModeWas, err = tightenKeyMode(root, KeyFile); err != nil {
				return nil, err
			}
			return res, nil
		}
		res.Reason = err.Error()
	}

	ca, err := pki.Issuer{Keys: o.Keys}.NewCertificateAuthority("aggapi front-proxy CA", o.KeyAlgorithm, now, req.NotAfter)
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
	set := []file{
		{CAFile, pki.EncodeCertPEM(ca.Cert), 0o644},
		{KeyFile, key, 0o600},
		{CertFile, pki.EncodeCertPEM(kp.Cert), 0o644},
	}
	if err := writeSet(root, set, writeFile); err != nil {
		return nil, fmt.Errorf("%s: %w", o.Dir, err)
	}
	res.Issued, res.Expires = true, kp.Cert.NotAfter
	return res, nil
}

// FlagDirError is the error of a directory, as the kube-apiserver sees it, that
// cannot be printed in a flag (CheckDir).
type FlagDirError struct {
	Dir   string
	Given bool // by --flag-dir, rather than the absolute --dir
	Err   error
}

func (e *FlagDirError) Error() string {
	if e.Given {
		return fmt.Sprintf("--flag-dir %q: %v", e.Dir, e.Err)
	}
	return fmt.Sprintf("the absolute --dir %q: %v (give --flag-dir)", e.Dir, e.Err)
}

func (e *FlagDirError) Unwrap() error { return e.Err }

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
// others may read it; it returns the mode it had (0 when it was already private). The
// mode is changed through the open file, never by path, so no symlink swapped in
// leads the chmod elsewhere.
func tightenKeyMode(root *os.Root, name string) (os.FileMode, error) {
	path := filepath.Join(root.Name(), name)
	if err := notSymlink(root, name); err != nil {
		return 0, err
	}
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if !info.Mode().IsRegular() {
		return 0, fmt.Errorf("%s: %w", path, &boundedfile.NotRegularError{Mode: info.Mode()})
	}
	if info.Mode().Perm()&0o077 == 0 {
		return 0, nil
	}
	if err := f.Chmod(0o600); err != nil {
		return 0, fmt.Errorf("%s is readable by others (%v) and cannot be made 0600: %w", path, info.Mode().Perm(), err)
	}
	return info.Mode().Perm(), nil
}

// notSymlink refuses a symlink in place of one of the files: Ensure writes and
// changes them, and a link planted there would lead that elsewhere.
func notSymlink(root *os.Root, name string) error {
	info, err := root.Lstat(name)
	if err != nil {
		return err
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link: aggapi aggregation-layer reads and writes its files only in place (remove the link)", filepath.Join(root.Name(), name))
	}
	return nil
}

// read reads the three files as every input is read: regular files, at most 64 KiB.
// A symlink in place of any of them is refused, even when another is missing.
func read(root *os.Root) (pki.TLSMaterial, error) {
	var m pki.TLSMaterial
	for _, name := range []string{CAFile, CertFile, KeyFile} {
		if err := notSymlink(root, name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return m, err
		}
	}
	var err error
	get := func(name string) []byte {
		var b []byte
		if err == nil {
			if b, err = boundedfile.ReadRoot(root, name, pki.MaxPEMBytes); err != nil && !errors.Is(err, fs.ErrNotExist) {
				err = fmt.Errorf("%s: %w", filepath.Join(root.Name(), name), err)
			}
		}
		return b
	}
	m.CAPEM, m.CertPEM, m.KeyPEM = get(CAFile), get(CertFile), get(KeyFile)
	return m, err
}

// file is one file of a set Ensure writes.
type file struct {
	name string
	data []byte
	mode os.FileMode
}

// writeFile writes data to f and flushes it to the disk.
func writeFile(f *os.File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Sync()
}

// writeSet writes a set of files that belong together (a CA, a certificate and its
// key) so that a failure leaves the previous set: every file goes to a temporary
// file beside it first (written by write, synced), and only when all are written
// are they renamed into place, then the directory synced. A rename replaces a
// symlink at the name rather than following it.
func writeSet(root *os.Root, set []file, write func(*os.File, []byte) error) (err error) {
	temps := make([]string, 0, len(set))
	defer func() {
		if err != nil {
			for _, t := range temps {
				root.Remove(t)
			}
		}
	}()
	for _, f := range set {
		tmp, name, err := createTemp(root, f.mode)
		if err != nil {
			return err
		}
		temps = append(temps, name)
		err = write(tmp, f.data)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", f.name, err)
		}
	}
	for i, f := range set {
		if err := root.Rename(temps[i], f.name); err != nil {
			return err
		}
	}
	temps = nil
	dir, err := root.Open(".")
	if err != nil {
		return err
	}
	defer dir.Close()
	if err := dir.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) { // some file systems cannot sync a directory
		return fmt.Errorf("syncing the directory: %w", err)
	}
	return nil
}

// createTemp creates a new file in root with a random name, and the mode (set on the
// open file, so the umask does not narrow it).
func createTemp(root *os.Root, mode os.FileMode) (*os.File, string, error) {
	for range 100 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, "", err
		}
		name := ".aggapi-" + hex.EncodeToString(b[:])
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		if err := f.Chmod(mode); err != nil {
			f.Close()
			root.Remove(name)
			return nil, "", err
		}
		return f, name, nil
	}
	return nil, "", errors.New("cannot create a temporary file")
}
