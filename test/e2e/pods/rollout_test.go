//go:build e2e

package pods

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/aggapi/aggapi/internal/testutil"
)

const (
	// examples/kustomize's certificate: validity 8760h, renewBefore 720h, and the
	// default overlap of 24h.
	certValidity = 8760 * time.Hour
	renewBefore  = 720 * time.Hour
	overlap      = 24 * time.Hour
)

// TestRolloutsLoseNoRequest runs the rendered Deployment under a steady load
// through the aggregator (one request per 50 ms) and counts failed requests
// across a restart and a renewal: the clock stepped into renewBefore (a new CA,
// the caBundle holding both, a surge-first rollout), then past the overlap (the
// caBundle holding the new CA only). The goal, asserted, is zero. A re-key
// without overlap (the Secret lost) is measured for contrast and only logged.
func TestRolloutsLoseNoRequest(t *testing.T) {
	c := startCluster(t, false)
	c.importImage(t, sampleImage, "sample-apiserver")

	// The first certificate was issued so long ago that today is inside its
	// renewBefore window: the second render renews, and every certificate is
	// valid by the control plane's real clock.
	now := time.Now().UTC().Truncate(time.Second)
	issued := now.Add(-(certValidity - renewBefore) - time.Hour)
	first := renderExample(t, "kustomize", [][2]string{etcdEdit()}, nil, issued)
	c.apply(t, first)
	c.rollout(t, wardleNamespace, wardleDeployment, wardleSelector)
	names := apiServiceNames(t, first)
	c.waitAvailable(t, names)

	l := c.startLoad(t)
	l.waitSent(20)
	if sent, failed := l.counts(); failed > 0 {
		_, _, errs := l.stop()
		t.Fatalf("%d of %d requests failed before any rollout: %v", failed, sent, errs)
	}

	t0 := time.Now()
	c.kubectl(t, nil, "-n", wardleNamespace, "rollout", "restart", "deployment/"+wardleDeployment)
	c.rollout(t, wardleNamespace, wardleDeployment, wardleSelector)
	l.waitSent(20)
	sentRestart, failedRestart := l.counts()
	t.Logf("restart: rolled out in %v; %d of %d requests failed so far", time.Since(t0).Round(time.Millisecond), failedRestart, sentRestart)

	t1 := time.Now()
	second := renderExample(t, "kustomize-transformer", [][2]string{etcdEdit()}, first, now)
	if n := caBundleCerts(t, second, names[0]); n != 2 {
		t.Fatalf("the renewal's caBundle holds %d certificates, want 2 (the new and the previous CA)", n)
	}
	if bytes.Equal(secretData(t, second, wardleSecret, "tls.crt"), secretData(t, first, wardleSecret, "tls.crt")) {
		t.Fatal("the render inside renewBefore kept the old serving certificate")
	}
	c.apply(t, second)
	c.rollout(t, wardleNamespace, wardleDeployment, wardleSelector)
	l.waitSent(20)
	t.Logf("renewal: rolled out in %v", time.Since(t1).Round(time.Millisecond))

	t2 := time.Now()
	third := renderExample(t, "kustomize-transformer", [][2]string{etcdEdit()}, second, now.Add(overlap+time.Hour))
	if n := caBundleCerts(t, third, names[0]); n != 1 {
		t.Fatalf("past the overlap the caBundle holds %d certificates, want 1 (the new CA)", n)
	}
	c.apply(t, third)
	c.rollout(t, wardleNamespace, wardleDeployment, wardleSelector)
	c.waitAvailable(t, names)
	// The aggregator picks up the one-CA caBundle; keep the load on while it does.
	l.waitSent(100)
	t.Logf("past the overlap: applied, %v", time.Since(t2).Round(time.Millisecond))

	sent, failed, errs := l.stop()
	t.Logf("restart and renewal under load: %d of %d requests failed (restart alone: %d of %d); seen: %s",
		failed, sent, failedRestart, sentRestart, strings.Join(errs, "; "))
	if failed > 0 {
		t.Errorf("%d of %d requests through the aggregator failed across a restart and a renewal, want 0: %s",
			failed, sent, strings.Join(errs, "; "))
	}

	// Contrast, measured only. A lost Secret: the next render issues a new CA;
	// the previous CA, still in the APIService's caBundle, stays trusted.
	// Certificates are dated today: later ones would not verify by the control
	// plane's clock.
	lost := renderExample(t, "kustomize-transformer", [][2]string{etcdEdit()}, withoutSecret(t, third, wardleSecret), now)
	c.measureReKey(t, "Secret lost", lost, names)
	// A fresh render with no previous output: a new CA and nothing else trusted.
	fresh := renderExample(t, "kustomize", [][2]string{etcdEdit()}, nil, now)
	c.measureReKey(t, "fresh render, no overlap", fresh, names)
}

// measureReKey applies a re-keyed render under load and logs the failed requests.
func (c *cluster) measureReKey(t *testing.T, what string, render []byte, names []string) {
	t.Helper()
	l := c.startLoad(t)
	l.waitSent(20)
	t0 := time.Now()
	bundle := caBundleCerts(t, render, names[0])
	c.apply(t, render)
	c.rollout(t, wardleNamespace, wardleDeployment, wardleSelector)
	c.waitAvailable(t, names)
	l.waitSent(100)
	sent, failed, errs := l.stop()
	t.Logf("re-key (%s; caBundle of %d): %d of %d requests failed, rolled out in %v: %s",
		what, bundle, failed, sent, time.Since(t0).Round(time.Millisecond), strings.Join(errs, "; "))
}

// caBundleCerts counts the certificates in an APIService's caBundle.
func caBundleCerts(t *testing.T, render []byte, apiService string) int {
	t.Helper()
	for _, o := range objects(t, render) {
		md, _ := o["metadata"].(map[string]any)
		if o["kind"] != "APIService" || md["name"] != apiService {
			continue
		}
		spec, _ := o["spec"].(map[string]any)
		s, _ := spec["caBundle"].(string)
		pem, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("APIService %s caBundle: %v", apiService, err)
		}
		return len(testutil.ParseCerts(t, "APIService "+apiService+" caBundle", pem))
	}
	t.Fatalf("no APIService %s in the render", apiService)
	return 0
}

// withoutSecret drops the serving Secret from a render: a lost Secret.
func withoutSecret(t *testing.T, render []byte, name string) []byte {
	t.Helper()
	var kept []string
	found := false
	for doc := range strings.SplitSeq(string(render), "\n---\n") {
		if strings.Contains(doc, "kind: Secret\n") && strings.Contains(doc, "\n  name: "+name+"\n") {
			found = true
			continue
		}
		kept = append(kept, doc)
	}
	if !found {
		t.Fatalf("no Secret %s in the render", name)
	}
	return []byte(strings.Join(kept, "\n---\n"))
}
