package doctor

import (
	"os"
	"strings"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"
)

// recorded is one Available condition from a public issue thread, with the network
// the thread describes.
type recorded struct {
	Source     string            `json:"source"`
	What       string            `json:"what"`
	Reason     string            `json:"reason"`
	Message    string            `json:"message"`
	Platform   string            `json:"platform"`
	ServiceIP  string            `json:"serviceIP"`
	Endpoints  map[string]string `json:"endpoints"`
	TargetPort int32             `json:"targetPort"`
	Cause      string            `json:"cause"`
	Want       []string          `json:"want"`
}

// TestRecordedConditions reads the condition messages users posted and checks the
// cause the doctor names for each, and that its evidence, fix or question to the
// provider carries what the thread's resolution needed.
func TestRecordedConditions(t *testing.T) {
	raw, err := os.ReadFile("testdata/recorded-conditions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []recorded
	if err := sigsyaml.UnmarshalStrict(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 10 {
		t.Fatalf("only %d recorded conditions", len(cases))
	}
	ref := Ref{APIService: "v1beta1.example.com", Namespace: "ns", Service: "svc", Port: 443}
	for _, c := range cases {
		t.Run(c.Source, func(t *testing.T) {
			if !strings.HasPrefix(c.Source, "https://github.com/") {
				t.Errorf("source %q is not a thread address", c.Source)
			}
			nw := Network{ServiceIP: c.ServiceIP, Endpoints: c.Endpoints, TargetPort: c.TargetPort, Platform: c.Platform}
			diag := explain(c.Reason, c.Message, ref, nw)
			if diag.ID != c.Cause {
				t.Errorf("cause %q, want %q (%s)", diag.ID, c.Cause, diag.Cause)
			}
			all := diag.Cause + " | " + diag.Fix + " | " + diag.Ask
			for _, w := range c.Want {
				if !strings.Contains(all, w) {
					t.Errorf("lacks %q:\n%s", w, all)
				}
			}
		})
	}
}

func TestParseDialed(t *testing.T) {
	for msg, want := range map[string]Dialed{
		`Get "https://10.0.0.12:443/apis/x/v1": dial tcp 10.0.0.12:443: i/o timeout`:    {"10.0.0.12", 443},
		`failing or missing response from https://[fd00::5]:6443/apis/x/v1: bad status`: {"fd00::5", 6443},
		`dial tcp [fd00::5]:8443: connect: connection refused`:                          {"fd00::5", 8443},
		`failing or missing response from https://api.wardle.svc:443/apis/x/v1: EOF`:    {"api.wardle.svc", 443},
	} {
		got, ok := ParseDialed(msg)
		if !ok || got != want {
			t.Errorf("ParseDialed(%q) = %v, %v; want %v", msg, got, ok, want)
		}
	}
	if _, ok := ParseDialed("endpoints for service/x have no addresses"); ok {
		t.Error("an address read from a message without one")
	}
}
