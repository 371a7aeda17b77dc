package controlplane

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// APIError is a non-2xx answer from an API server.
type APIError struct {
	Method, URL string
	StatusCode  int
	Body        string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.StatusCode, e.Body)
}

// IsStatus reports whether err is an *APIError with the given HTTP status.
func IsStatus(err error, code int) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == code
}

// Client is a minimal JSON client for a Kubernetes-style API server.
type Client struct {
	BaseURL    string // e.g. https://127.0.0.1:6443
	HTTPClient *http.Client
	// BearerToken, if set, is sent as "Authorization: Bearer ...".
	BearerToken string
}

// NewTLSClient returns an *http.Client that trusts caPEM (or skips
// verification if caPEM is empty, which callers should only do for
// loopback readiness probes) and optionally presents a client certificate.
func NewTLSClient(caPEM []byte, client *KeyPair) (*http.Client, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(caPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("no certificate found in CA PEM")
		}
		cfg.RootCAs = pool
	} else {
		cfg.InsecureSkipVerify = true //nolint:gosec // documented: loopback probes only
	}
	if client != nil {
		cert, err := tls.X509KeyPair(client.CertPEM, client.KeyPEM)
		if err != nil {
			return nil, fmt.Errorf("loading client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: cfg,
			// Never use a proxy from the environment: everything is on loopback.
			Proxy: nil,
		},
	}, nil
}

// Do sends a request with an optional JSON body (anything json.Marshal
// accepts, or []byte sent as is) and decodes a JSON answer into out (if
// non-nil). A non-2xx answer is returned as *APIError.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		reader = bytes.NewReader(b)
	default:
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encoding %s %s body: %w", method, path, err)
		}
		reader = bytes.NewReader(data)
	}
	url := c.BaseURL + path
	req, err := http.NewRequestWithContext(ctx, method, url, reader)
	if err != nil {
		return fmt.Errorf("building %s %s: %w", method, url, err)
	}
	req.Header.Set("Accept", "application/json")
	if reader != nil {
		contentType := "application/json"
		if method == http.MethodPatch {
			contentType = "application/merge-patch+json"
		}
		req.Header.Set("Content-Type", contentType)
	}
	if c.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.BearerToken)
	}
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: reading response: %w", method, url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &APIError{Method: method, URL: url, StatusCode: resp.StatusCode, Body: string(bytes.TrimSpace(data))}
	}
	if out != nil {
		if raw, ok := out.(*[]byte); ok {
			*raw = data
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decoding response: %w", method, url, err)
		}
	}
	return nil
}

// Get is Do with GET and no body.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.Do(ctx, http.MethodGet, path, nil, out)
}

// Create POSTs obj to the collection path and decodes the result into out.
func (c *Client) Create(ctx context.Context, collectionPath string, obj, out any) error {
	return c.Do(ctx, http.MethodPost, collectionPath, obj, out)
}

// Poll calls cond every interval until it returns true or an error, or ctx
// expires. It returns the last condition error on timeout, for context.
func Poll(ctx context.Context, interval time.Duration, cond func(context.Context) (bool, error)) error {
	var lastErr error
	for {
		ok, err := cond(ctx)
		if err != nil {
			lastErr = err
		} else if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr)
			}
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// Credentials identify a kubeconfig user: a client certificate or a token.
type Credentials struct {
	ClientCertPEM []byte
	ClientKeyPEM  []byte
	Token         string
}

// WriteKubeconfig writes a single-context kubeconfig for server (trusting
// caPEM) and user. Kubeconfig is YAML, which is a superset of JSON, so it is
// written as JSON with the standard library.
func WriteKubeconfig(path, server string, caPEM []byte, user string, creds Credentials) error {
	b64 := base64.StdEncoding.EncodeToString
	userEntry := map[string]string{}
	if len(creds.ClientCertPEM) > 0 {
		userEntry["client-certificate-data"] = b64(creds.ClientCertPEM)
		userEntry["client-key-data"] = b64(creds.ClientKeyPEM)
	}
	if creds.Token != "" {
		userEntry["token"] = creds.Token
	}
	cfg := map[string]any{
		"apiVersion": "v1",
		"kind":       "Config",
		"clusters": []any{map[string]any{
			"name":    "e2e",
			"cluster": map[string]string{"server": server, "certificate-authority-data": b64(caPEM)},
		}},
		"users": []any{map[string]any{"name": user, "user": userEntry}},
		"contexts": []any{map[string]any{
			"name":    "e2e",
			"context": map[string]string{"cluster": "e2e", "user": user},
		}},
		"current-context": "e2e",
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding kubeconfig: %w", err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("writing kubeconfig %s: %w", path, err)
	}
	return nil
}

// plainHTTPClient is for plain-HTTP loopback endpoints (etcd's /health).
func plainHTTPClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}
}
