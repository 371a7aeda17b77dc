package cli

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

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
// computes each one's digest, as a render does. Each config is loaded as it is decoded
// and only its name and digest are kept, so memory follows one document, not them all.
func loadConfigs(paths []string, maxBytes int64, reserve func(int64)) ([]verify.Config, error) {
	var out []verify.Config
	seen := map[string]verify.Config{}
	var p string
	var found int
	var failed error
	r := &verify.Reader{MaxBytes: maxBytes, Reserve: reserve, Keep: func(n *yaml.RNode) *yaml.RNode {
		// Only the configs are read; the rendered objects of a kpt package are skipped.
		if failed != nil || n.GetKind() != config.Kind {
			return nil
		}
		found++
		failed = addConfig(n, p, seen, &out)
		return nil
	}}
	for _, p = range paths {
		if p == "-" {
			return nil, fmt.Errorf("--config -: give the config as a file; stdin is for the manifests")
		}
		found = 0
		if _, err := r.Read(p, nil); err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
		if failed != nil {
			return nil, failed
		}
		if found == 0 {
			return nil, fmt.Errorf("--config %s: no %s %s in it", p, config.APIVersion, config.Kind)
		}
	}
	return out, nil
}

// addConfig loads the config n read from p, and adds its name and digest to out unless
// seen holds it already.
func addConfig(n *yaml.RNode, p string, seen map[string]verify.Config, out *[]verify.Config) error {
	api, errs := config.LoadNode(n.YNode())
	if len(errs) > 0 {
		var b strings.Builder
		for _, e := range errs {
			fmt.Fprintf(&b, "\n  `%s`: %s", e.Field, e.ErrorBody())
		}
		return fmt.Errorf("--config %s: %s %s is not valid:%s", p, config.Kind, n.GetName(), b.String())
	}
	digest, err := render.ConfigDigest(api)
	if err != nil {
		return fmt.Errorf("--config %s: %w", p, err)
	}
	c := verify.Config{Name: api.Name, Digest: digest, Source: p}
	if prev, dup := seen[api.Name]; dup {
		if prev.Digest != digest {
			return fmt.Errorf("--config: two different configs named %s (%s and %s)", api.Name, prev.Source, p)
		}
		return nil
	}
	seen[api.Name] = c
	*out = append(*out, c)
	return nil
}
