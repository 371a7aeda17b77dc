package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/render"
	"github.com/aggapi/aggapi/fn/verify"
)

// configFlag collects the repeatable --config of `aggapi verify`.
type configFlag []string

func (c *configFlag) String() string     { return strings.Join(*c, ",") }
func (c *configFlag) Set(v string) error { *c = append(*c, v); return nil }

// loadConfigs reads the AggregatedAPI configs of the given files or directories (other
// documents there, such as a kustomization or rendered manifests, are skipped) and
// computes each one's digest, as a render does.
func loadConfigs(paths []string, stdin io.Reader) ([]verify.Config, error) {
	var out []verify.Config
	seen := map[string]verify.Config{}
	for _, p := range paths {
		if p == "-" {
			return nil, fmt.Errorf("--config -: give the config as a file; stdin is for the manifests")
		}
		nodes, err := verify.ReadManifests(p, stdin)
		if err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
		found := 0
		for _, n := range nodes {
			if n.GetKind() != config.Kind {
				continue
			}
			found++
			var generic map[string]any
			if err := n.YNode().Decode(&generic); err != nil {
				return nil, fmt.Errorf("--config %s: %w", p, err)
			}
			doc, err := json.Marshal(generic)
			if err != nil {
				return nil, fmt.Errorf("--config %s: %w", p, err)
			}
			api, errs := config.LoadJSON(doc)
			if len(errs) > 0 {
				var b strings.Builder
				for _, e := range errs {
					fmt.Fprintf(&b, "\n  `%s`: %s", e.Field, e.ErrorBody())
				}
				return nil, fmt.Errorf("--config %s: %s %s is not valid:%s", p, config.Kind, n.GetName(), b.String())
			}
			digest, err := render.ConfigDigest(api)
			if err != nil {
				return nil, fmt.Errorf("--config %s: %w", p, err)
			}
			c := verify.Config{Name: api.Name, Digest: digest, Source: p}
			if prev, dup := seen[api.Name]; dup {
				if prev.Digest != digest {
					return nil, fmt.Errorf("--config: two different configs named %s (%s and %s)", api.Name, prev.Source, p)
				}
				continue
			}
			seen[api.Name] = c
			out = append(out, c)
		}
		if found == 0 {
			return nil, fmt.Errorf("--config %s: no %s %s in it", p, config.APIVersion, config.Kind)
		}
	}
	return out, nil
}
