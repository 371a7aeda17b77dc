package redact

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"
)

// keys returns PEM private keys of the types users paste: PKCS#8, SEC 1, and a legacy
// encrypted block with headers.
func keys(t testing.TB) map[string]string {
	t.Helper()
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(ed)
	sec1, _ := x509.MarshalECPrivateKey(ec)
	return map[string]string{
		"PKCS#8": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
		"SEC 1":  string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})),
		"encrypted": string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY",
			Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,0123456789ABCDEF0123456789ABCDEF"},
			Bytes:   append(append([]byte{}, sec1...), sec1...)})),
	}
}

// chunks are pieces of a key's base64 body: none may survive redaction.
func chunks(key string) []string {
	var out []string
	for _, line := range strings.Split(key, "\n") {
		if strings.HasPrefix(line, "-----") || strings.Contains(line, ":") || len(line) < 12 {
			continue
		}
		for i := 0; i+12 <= len(line); i += 12 {
			out = append(out, line[i:i+12])
		}
	}
	return out
}

func leaks(t *testing.T, got, key string) {
	t.Helper()
	for _, c := range chunks(key) {
		if strings.Contains(got, c) {
			t.Fatalf("key bytes %q survive in %q", c, got)
		}
	}
}

func TestStringRedactsPEMPrivateKeys(t *testing.T) {
	for name, key := range keys(t) {
		label := key[len(begin):strings.Index(key, "-----\n")]
		header, footer := "-----BEGIN "+label+"-----", "-----END "+label+"-----"
		trimmed := strings.TrimSuffix(key, "\n")
		cut := trimmed[:len(trimmed)*2/3] // no END
		for _, tc := range []struct {
			name, in, want string
		}{
			{"whole", key, header + " [redacted] " + footer + "\n"},
			{"in a longer string", "image: registry/x:" + trimmed + " and more", "image: registry/x:" + header + " [redacted] " + footer + " and more"},
			{"quoted", `Invalid value: ` + strconv.Quote(key) + `: must be`, `Invalid value: "` + header + ` [redacted] ` + footer + `\n": must be`},
			{"cut short", "value " + cut, "value " + header + " [redacted]"},
			{"cut short, quoted", `Invalid value: ` + strconv.Quote(cut) + `: must be`, `Invalid value: "` + header + ` [redacted]": must be`},
			{"cut short, then words", cut + "\nthe rest (of the message)", header + " [redacted] rest (of the message)"},
			{"one line, cut short", strings.ReplaceAll(cut, "\n", " ") + " (of the message)", header + " [redacted] (of the message)"},
			{"indented", strings.ReplaceAll(cut, "\n", "\n    "), header + " [redacted]"},
			{"two", key + "between\n" + key, header + " [redacted] " + footer + "\nbetween\n" + header + " [redacted] " + footer + "\n"},
		} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				got := String(tc.in)
				leaks(t, got, key)
				if got != tc.want {
					t.Errorf("got\n%q\nwant\n%q", got, tc.want)
				}
				if again := String(got); again != got {
					t.Errorf("not idempotent: %q", again)
				}
			})
		}
	}
}

func TestStringRedactsBase64OfAKey(t *testing.T) {
	key := keys(t)["PKCS#8"]
	std := base64.StdEncoding.EncodeToString([]byte(key))
	var wrapped strings.Builder // as base64(1) writes it
	for i := 0; i < len(std); i += 76 {
		wrapped.WriteString(std[i:min(i+76, len(std))] + "\n")
	}
	for _, tc := range []struct{ name, in, want string }{
		{"Secret data", "tls.key: " + std + " is not a certificate", "tls.key: " + RedactedBase64 + " is not a certificate"},
		{"quoted", strconv.Quote(std) + ": bad", `"` + RedactedBase64 + `": bad`},
		{"wrapped", "x " + wrapped.String(), "x " + RedactedBase64 + "\n"},
		{"wrapped, quoted", strconv.Quote(wrapped.String()), `"` + RedactedBase64 + `\n"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := String(tc.in)
			if got != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
	// A key anywhere in a longer encoded document: a kubeconfig, at each alignment.
	for pad := range 3 {
		doc := strings.Repeat("#", pad) + "users:\n- user:\n    client-key: |\n" + key
		enc := base64.StdEncoding.EncodeToString([]byte(doc))
		if got := String("data: " + enc); got != "data: "+RedactedBase64 {
			t.Errorf("alignment %d: %q", pad, got)
		}
	}
}

func TestStringKeepsWhatIsNoKey(t *testing.T) {
	cert := selfSigned(t)
	pub := "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n"
	for _, s := range []string{
		"",
		"plain message: `spec.server.image`: Invalid value: \"x\\r\"",
		cert,
		strconv.Quote(cert),
		pub,
		base64.StdEncoding.EncodeToString([]byte(cert)),
		"-----BEGIN PRIVATE KE", // a header cut short holds no key
		"-----BEGIN " + strings.Repeat("PRIVATE KEY ", 10) + "-----",
		"-----END PRIVATE KEY-----",
	} {
		if got := String(s); got != s {
			t.Errorf("String(%q) = %q", s, got)
		}
	}
}

func selfSigned(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"}, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1e9, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestTerminalEscapesWhatIsNotPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"aggapi: error: a/b\n":           "aggapi: error: a/b\n",
		"usage:\n\t-f FILE\n":            "usage:\n\t-f FILE\n",
		"dir /tmp/x\rok: all good\n":     `dir /tmp/x\rok: all good` + "\n",
		"\x1b[2J\x1b]0;title\a":          `\x1b[2J\x1b]0;title\a`,
		"del\x7f nul\x00":                `del\x7f nul\x00`,
		"c1 \u0085 ls \u2028 rlo \u202e": `c1 \u0085 ls \u2028 rlo \u202e`,
		"bad \xff utf-8":                 `bad \xff utf-8`,
		"nbsp \u00a0":                    `nbsp \u00a0`,
		"été ✓ 名前":                       "été ✓ 名前",
	} {
		got := Terminal(in)
		if got != want {
			t.Errorf("Terminal(%q) = %q, want %q", in, got, want)
		}
		if again := Terminal(got); again != got {
			t.Errorf("Terminal is not idempotent on %q: %q", got, again)
		}
	}
}

func TestWriter(t *testing.T) {
	key := keys(t)["SEC 1"]
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if NewWriter(w) != w {
		t.Error("a writer is wrapped twice")
	}
	msg := fmt.Sprintf("aggapi: error: `spec.server.image`: %s\r\x1b[1A\n", key)
	n, err := w.Write([]byte(msg))
	if err != nil || n != len(msg) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(msg))
	}
	leaks(t, buf.String(), key)
	if want := "aggapi: error: `spec.server.image`: -----BEGIN EC PRIVATE KEY----- [redacted] -----END EC PRIVATE KEY-----\n\\r\\x1b[1A\n"; buf.String() != want {
		t.Errorf("got %q\nwant %q", &buf, want)
	}
}

// FuzzString: a key placed anywhere in any text, whole or cut short, raw or quoted,
// leaves none of its body.
func FuzzString(f *testing.F) {
	f.Add("prefix ", " suffix", 0, false)
	f.Add("image: x:", "", 40, true)
	f.Add("-----BEGIN ", "-----END X-----", 1, false)
	f.Add("\\", "\"", 80, true)
	key := keys(f)["PKCS#8"]
	f.Fuzz(func(t *testing.T, prefix, suffix string, cut int, quote bool) {
		k := key
		if cut > 0 {
			k = k[:min(len(begin)+len("PRIVATE KEY-----")+cut%len(key), len(k))]
		}
		in := prefix + k + suffix
		if quote {
			in = strconv.Quote(in)
		}
		got := String(in)
		for _, c := range chunks(k) {
			if strings.Contains(got, c) && !strings.Contains(prefix+suffix, c) {
				t.Fatalf("key bytes %q survive in %q", c, got)
			}
		}
		if again := String(got); again != got {
			t.Fatalf("not idempotent: %q then %q", got, again)
		}
	})
}

// TestStringIsLinear: many blocks without END, or many base64 markers, cost one pass.
func TestStringIsLinear(t *testing.T) {
	for _, unit := range []string{"-----BEGIN PRIVATE KEY-----x ", "UFJJVkFURSBLRVk ", "-----BEGIN PRIVATE KEY----- -----END X-----"} {
		s := strings.Repeat(unit, (4<<20)/len(unit))
		start := time.Now()
		got := String(s)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%q × %d: %v", unit, len(s)/len(unit), d)
		}
		if strings.Contains(got, "x -----BEGIN") || strings.Contains(got, "UFJJVkFURSBLRVk") {
			t.Errorf("%q: not every one redacted", unit)
		}
	}
}
