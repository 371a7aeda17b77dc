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
// computes each one's digest, as a render does; it also returns each config as read, by
// name, so verify can render it again to name the fields of an edit.
func loadConfigs(paths []string, maxBytes int64, reserve func(int64)) ([]verify.Config, map[string]*yaml.RNode, error) {
	var out []verify.Config
	nodes := map[string]*yaml.RNode{}
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
		if failed == nil {
			if _, ok := nodes[n.GetName()]; !ok {
				nodes[n.GetName()] = n.Copy()
			}
		}
		return nil
	}}
	for _, p = range paths {
		if p == "-" {
			return nil, nil, fmt.Errorf("--config -: give the config as a file; stdin is for the manifests")
		}
		found = 0
		if _, err := r.Read(p, nil); err != nil {
			return nil, nil, fmt.Errorf("--config: %w", err)
		}
		if failed != nil {
			return nil, nil, failed
		}
		if found == 0 {
			return nil, nil, fmt.Errorf("--config %s: no %s %s in it", p, config.APIVersion, config.Kind)
		}
	}
	return out, nodes, nil
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
	cert := api.Spec.Certificate
	c := verify.Config{Name: api.Name, Digest: digest, Source: p,
		Timing:      verify.Timing{RenewBefore: cert.RenewBeforeDuration(), Overlap: cert.OverlapDuration(), From: "config"},
		PodTemplate: verify.PodTemplateFindings(api, p)}
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
