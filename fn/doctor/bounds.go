package doctor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/aggapi/aggapi/fn/internal/boundedfile"
)

// Bounds of what doctor reads.
const (
	// MaxKubeconfigBytes bounds each kubeconfig file; kubeconfigs with hundreds of
	// contexts and embedded certificates stay far below it.
	MaxKubeconfigBytes = 16 << 20
	// MaxResponseBytes bounds each response body from the cluster (after
	// decompression); the largest doctor reads, a namespace's Deployments, is
	// far smaller.
	MaxResponseBytes = 32 << 20
)

// boundedKubeconfig loads kubeconfig files as clientcmd does, after checking each
// as every aggapi input is checked: a regular file (a device such as /dev/zero never
// ends, a FIFO blocks until someone writes), at most limit bytes. clientcmd reads
// the files itself, so the check comes just before it.
type boundedKubeconfig struct {
	*clientcmd.ClientConfigLoadingRules
	limit int64
}

func (l boundedKubeconfig) Load() (*clientcmdapi.Config, error) {
	for _, path := range l.GetLoadingPrecedence() {
		if path == "" {
			continue
		}
		if err := checkKubeconfig(path, l.limit); err != nil {
			return nil, fmt.Errorf("kubeconfig %q %w", path, err)
		}
	}
	return l.ClientConfigLoadingRules.Load()
}

// checkKubeconfig opens path without blocking (boundedfile.Open stats it first) and
// checks its size; a missing file is left to clientcmd, which skips it or says so.
func checkKubeconfig(path string, limit int64) error {
	f, err := boundedfile.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		var notRegular *boundedfile.NotRegularError
		if errors.As(err, &notRegular) {
			return err
		}
		return fmt.Errorf("cannot be read: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cannot be read: %w", err)
	}
	if info.Size() > limit {
		return &boundedfile.TooLargeError{Limit: limit}
	}
	return nil
}

// BodyTooLargeError is the error of a response whose body is over the limit.
type BodyTooLargeError struct {
	Limit int64
}

func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("the response body is larger than the %d MiB aggapi doctor accepts", e.Limit>>20)
}

// boundBodies makes every response of cfg's clients fail once its body passes limit
// bytes. client-go reads a body whole into memory, so the body is read here, at most
// limit bytes, before client-go sees it; the request timeout covers the read.
func boundBodies(cfg *rest.Config, limit int64) {
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return boundedBodies{rt, limit} })
}

type boundedBodies struct {
	rt    http.RoundTripper
	limit int64
}

func (b boundedBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := b.rt.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	defer resp.Body.Close()
	if resp.ContentLength > b.limit {
		return nil, &BodyTooLargeError{b.limit}
	}
	body, err := boundedfile.ReadAtMost(resp.Body, b.limit)
	var tooLarge *boundedfile.TooLargeError
	if errors.As(err, &tooLarge) {
		return nil, &BodyTooLargeError{b.limit}
	}
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}
