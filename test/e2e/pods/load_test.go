//go:build e2e

package pods

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// load sends one request every 50 ms through the aggregator (a list of flunders)
// and counts the ones that fail. Like client-go (kubectl, controllers), it retries
// a response that asks for it (429, or a 5xx with Retry-After: what a
// k8s.io/apiserver server answers on a connection that reaches it after SIGTERM)
// and counts those separately: a Kubernetes client does not see them fail.
type load struct {
	mu      sync.Mutex
	sent    int
	failed  int
	retried int
	errs    map[string]int // normalised error → count
	cancel  context.CancelFunc
	done    chan struct{}
}

const (
	loadInterval = 50 * time.Millisecond
	loadPath     = "/apis/wardle.example.com/v1beta1/namespaces/default/flunders"
)

func (c *cluster) startLoad(t *testing.T) *load {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	l := &load{errs: map[string]int{}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		tick := time.NewTicker(loadInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			retries, err := c.getRetrying(ctx, loadPath)
			if ctx.Err() != nil {
				return // stopped mid-request: not a failure of the server
			}
			l.mu.Lock()
			l.sent++
			if retries > 0 {
				l.retried++
				l.errs["retried after Retry-After"]++
			}
			if err != nil {
				l.failed++
				l.errs[normaliseError(err.Error())]++
			}
			l.mu.Unlock()
		}
	}()
	return l
}

// maxRetries bounds the retries of one request (client-go allows 10).
const maxRetries = 3

// getRetrying GETs path as admin, retrying while the answer asks for a retry.
func (c *cluster) getRetrying(ctx context.Context, path string) (retries int, err error) {
	for {
		wait, err := c.getOnce(ctx, path)
		if err == nil || wait == 0 || retries == maxRetries {
			return retries, err
		}
		retries++
		select {
		case <-ctx.Done():
			return retries, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// getOnce GETs path; on an error answer, wait is how long its Retry-After asks
// to wait before retrying (0: not to be retried).
func (c *cluster) getOnce(ctx context.Context, path string) (wait time.Duration, err error) {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, c.admin.BaseURL+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.admin.HTTPClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	err = fmt.Errorf("GET %s: HTTP %d: %s", path, resp.StatusCode, bytes.TrimSpace(body))
	if secs, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil &&
		(resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) {
		return time.Duration(min(max(secs, 1), 2)) * time.Second, err
	}
	return 0, err
}

// counts returns what was sent and failed so far.
func (l *load) counts() (sent, failed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent, l.failed
}

// waitSent waits until n more requests were sent.
func (l *load) waitSent(n int) {
	start, _ := l.counts()
	for {
		if sent, _ := l.counts(); sent >= start+n {
			return
		}
		select {
		case <-l.done:
			return
		case <-time.After(loadInterval):
		}
	}
}

// stop ends the load and returns its totals and the errors and retries seen.
func (l *load) stop() (sent, failed int, errs []string) {
	l.cancel()
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	for e, n := range l.errs {
		errs = append(errs, e+" ×"+strconv.Itoa(n))
	}
	sort.Strings(errs)
	return l.sent, l.failed, errs
}

var addrPort = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+:\d+`)

// normaliseError keeps an error's kind, not its addresses.
func normaliseError(s string) string {
	s = addrPort.ReplaceAllString(s, "<addr>")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
