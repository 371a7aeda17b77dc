package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/internal/boundedfile"
	"github.com/aggapi/aggapi/fn/manifests"
	"github.com/aggapi/aggapi/fn/pki"
	"github.com/aggapi/aggapi/fn/verify"
)

// TargetsFromManifests reads rendered manifests — multi-document YAML files, a
// ResourceList or List, directories (read recursively, *.yaml and *.yml), or "-" for
// stdin — and returns a Target for every APIService in them.
func TargetsFromManifests(paths []string, stdin io.Reader) ([]Target, error) {
	var targets []Target
	// Only APIServices are kept as they are read, so a large manifest costs little memory.
	r := &verify.Reader{Keep: func(n *yaml.RNode) *yaml.RNode {
		if n.GetKind() != "APIService" {
			return nil
		}
		return n
	}}
	for _, p := range paths {
		nodes, err := r.Read(p, stdin)
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			if n.GetKind() != "APIService" || !strings.HasPrefix(n.GetApiVersion(), "apiregistration.k8s.io/") {
				continue
			}
			raw, err := n.MarshalJSON()
			if err != nil {
				return nil, fmt.Errorf("%s: APIService %s: %w", name(p), n.GetName(), err)
			}
			api := &apiregv1.APIService{}
			if err := json.Unmarshal(raw, api); err != nil {
				return nil, fmt.Errorf("%s: APIService %s: %w", name(p), n.GetName(), err)
			}
			t := Target{Name: api.Name, Rendered: api, Injector: injectorOf(api.Annotations), Source: name(p)}
			if m := managerOf(api); m.Kind != "" {
				t.Owner = &m
			}
			if t.Injector == "" && len(api.Spec.CABundle) > 0 {
				t.CABundle = api.Spec.CABundle
			}
			if s := api.Spec.Service; s != nil {
				t.Expect = &Ref{APIService: api.Name, Namespace: s.Namespace, Service: s.Name, Port: portOf(s.Port)}
			}
			targets = append(targets, t)
		}
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("no APIService in %s: was the function skipped? (kustomize needs --enable-alpha-plugins --enable-exec)", strings.Join(names(paths), ", "))
	}
	return targets, nil
}

// TargetsFromConfig reads AggregatedAPI configs (a file, or "-" for stdin; other
// documents in it are ignored) and returns a Target for every version.
func TargetsFromConfig(path string, stdin io.Reader) ([]Target, error) {
	nodes, err := verify.ReadManifests(path, stdin)
	if err != nil {
		return nil, err
	}
	var targets []Target
	for _, n := range nodes {
		if n.GetKind() != config.Kind {
			continue
		}
		api, errs := config.LoadNode(n.YNode())
		if len(errs) == 0 {
			// The podTemplate rules render applies: a config it refuses has no live objects.
			errs = manifests.CheckPodTemplate(api)
		}
		if len(errs) > 0 {
			return nil, fmt.Errorf("%s: invalid AggregatedAPI: %w", name(path), errs.ToAggregate())
		}
		injector, caBundle := "", []byte(nil)
		switch c := api.Spec.Certificate; c.Mode {
		case config.ModeCertManager:
			injector = CertManager
		case config.ModeOpenShift:
			injector = OpenShift
		case config.ModeProvided:
			// The CA the user gave is what every APIService must trust.
			if c.Provided != nil && c.Provided.CABundle != "" {
				caBundle = []byte(c.Provided.CABundle)
			} else if c.Provided != nil && c.Provided.CAFile != "" {
				caBundle = readCAFile(c.Provided.CAFile, path)
			}
		}
		for _, g := range api.APIGroups() {
			for _, v := range g.Versions {
				targets = append(targets, Target{
					Name: config.APIServiceName(g.Group, v.Name),
					Expect: &Ref{
						APIService: config.APIServiceName(g.Group, v.Name),
						Namespace:  api.Spec.Namespace,
						Service:    api.Spec.Service.Name,
						Port:       api.Spec.Service.Port,
					},
					CABundle: caBundle,
					Injector: injector,
					Source:   name(path),
					Owner:    &Manager{Kind: "aggapi", Name: api.Name},
				})
			}
		}
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("no %s (%s) in %s", config.Kind, config.APIVersion, name(path))
	}
	return targets, nil
}

// readCAFile reads provided.caFile as the function would (relative to the working
// directory), else relative to the config's directory; nil when neither works.
// Both reads are bounded the function's way: inside the directory, a regular file, 64 KiB.
func readCAFile(caFile, configPath string) []byte {
	if b, err := boundedfile.ReadInRoot(".", caFile, pki.MaxPEMBytes); err == nil {
		return b
	}
	if configPath != "-" {
		if b, err := boundedfile.ReadInRoot(filepath.Dir(configPath), caFile, pki.MaxPEMBytes); err == nil {
			return b
		}
	}
	return nil
}

func name(p string) string {
	if p == "-" {
		return "stdin"
	}
	return p
}

func names(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = name(p)
	}
	return out
}

func portOf(p *int32) int32 {
	if p == nil {
		return 443
	}
	return *p
}
