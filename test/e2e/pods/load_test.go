//go:build e2e

package pods

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// load sends one request every 50 ms through the aggregator (a list of flunders)
// and counts the ones that fail.
type load struct {
	mu     sync.Mutex
	sent   int
	failed int
	errs   map[string]int // normalised error → count
	cancel context.CancelFunc
	done   chan struct{}
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
			rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
			var out []byte
			err := c.admin.Get(rctx, loadPath, &out)
			rcancel()
			if ctx.Err() != nil {
				return // stopped mid-request: not a failure of the server
			}
			l.mu.Lock()
			l.sent++
			if err != nil {
				l.failed++
				l.errs[normaliseError(err.Error())]++
			}
			l.mu.Unlock()
		}
	}()
	return l
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

// stop ends the load and returns its totals and errors, most frequent first.
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
