//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/aggapi/aggapi/config/crd"
	"github.com/aggapi/aggapi/internal/testutil"
	"github.com/aggapi/aggapi/test/e2e/controlplane"
)

// The kube-apiserver is the oracle: configs generated from the CRD schema
// (oracle_gen.go) are rendered by the function, and every render that exits 0 is
// applied with a server-side dry run to a real kube-apiserver. A config the function
// refuses is fine; an object the API server refuses is a failure.
const (
	oracleSeed  = 18
	oracleCount = 300
	// oracleWorkers render and apply concurrently.
	oracleWorkers = 4
	// certManagerVersion is the cert-manager release whose CRDs (deploy/crds of its Go
	// module) stand in for cert-manager, so Certificates and Issuers are checked by
	// their real schema. Its webhook's rules are not.
	certManagerModule  = "github.com/cert-manager/cert-manager"
	certManagerVersion = "v1.21.2"
	// prometheusOperatorVersion is the prometheus-operator release whose ServiceMonitor
	// CRD (example/prometheus-operator-crd of its Go module) checks the ServiceMonitors.
	prometheusOperatorModule  = "github.com/prometheus-operator/prometheus-operator"
	prometheusOperatorVersion = "v0.85.0"
	// oracleFunctionEnv names another function binary to hold to the oracle (an
	// older build, a release) instead of bin/aggapi built from this tree.
	oracleFunctionEnv = "AGGAPI_ORACLE_FUNCTION"
)

// checkOracleRefuses makes sure a refusal is seen: a List of one valid and one
// invalid object must come back as one accepted and one refused with its message.
// Otherwise a change in kubectl's output would make every render pass.
func checkOracleRefuses(t *testing.T, k *oracleKubectl) {
	t.Helper()
	good := object("v1", "ConfigMap", "default", "oracle-good")
	bad := object("v1", "ConfigMap", "default", "oracle-bad")
	bad["metadata"].(map[string]any)["labels"] = map[string]any{"x": strings.Repeat("y", 64)}
	accepted, stderr := k.dryRunApply(t.Context(), []any{good, bad})
	if !accepted[objectKey(good)] || accepted[objectKey(bad)] || !strings.Contains(messageFor(stderr, bad), "must be no more than 63") {
		t.Fatalf("the oracle cannot tell accepted from refused objects: accepted %v, stderr %q", accepted, stderr)
	}
}

// TestOracleGeneratorFollowsSchema checks the generator without a cluster: every config
// passes the CRD schema (kube-openapi's validator, as the API server would check an
// AggregatedAPI), config i is the same however often it is made, and together the
// configs set every field the schema has.
func TestOracleGeneratorFollowsSchema(t *testing.T) {
	schema, err := loadCRDSchema()
	if err != nil {
		t.Fatal(err)
	}
	var s spec.Schema
	if err := json.Unmarshal(crd.AggregatedAPISchema, &s); err != nil {
		t.Fatal(err)
	}
	validator := validate.NewSchemaValidator(&s, nil, "", strfmt.Default)
	const caPEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	configs := oracleConfigs(t, schema, caPEM)
	seen := map[string]bool{}
	features := map[string]int{}
	for _, c := range configs {
		var doc any
		if err := json.Unmarshal(c.JSON(), &doc); err != nil {
			t.Fatal(err)
		}
		for _, e := range validator.Validate(doc).Errors {
			t.Errorf("config %d does not follow the schema: %v\n%s", c.Index, e, truncate(string(c.JSON()), 2000))
		}
		docPaths(schema, doc, "", seen)
		for _, f := range c.Features {
			features[f]++
		}
	}
	for _, i := range []int{0, 7, oracleCount - 1} {
		if again := generateConfig(schema, oracleSeed, i, caPEM); !bytes.Equal(again.JSON(), configs[i].JSON()) {
			t.Errorf("config %d differs when made again: the generator is not deterministic", i)
		}
	}
	var leaves []string
	schemaLeaves(schema, "", &leaves)
	for _, l := range leaves {
		if !seen[l] {
			t.Errorf("no generated config sets %s: give it a hint in oracle_gen_hints.go or raise its chance", l)
		}
	}
	t.Logf("%d configs; %d schema leaves, all set; features: %s", len(configs), len(leaves), formatCounts(features))
}

// oracleConfigs makes the test's configs; caPEM is the CA of mode provided.
func oracleConfigs(t *testing.T, schema *schemaNode, caPEM string) []oracleConfig {
	t.Helper()
	var out []oracleConfig
	for i := range oracleCount {
		out = append(out, generateConfig(schema, oracleSeed, i, caPEM))
	}
	return out
}

// docPaths records the schema path of every leaf value in v.
func docPaths(s *schemaNode, v any, path string, seen map[string]bool) {
	switch {
	case len(s.Properties) > 0:
		m, _ := v.(map[string]any)
		for k, x := range m {
			if p, ok := s.Properties[k]; ok {
				docPaths(p, x, path+"."+k, seen)
			}
		}
	case s.Items != nil:
		l, _ := v.([]any)
		for _, x := range l {
			docPaths(s.Items, x, path+"[]", seen)
		}
	case s.AdditionalProperties != nil:
		m, _ := v.(map[string]any)
		for _, x := range m {
			docPaths(s.AdditionalProperties, x, path+"{}", seen)
		}
	default:
		seen[path] = true
	}
}

// renderResult is what the function did with one config.
type renderResult struct {
	config  oracleConfig
	exit    int
	stderr  string
	objects []map[string]any // as the function meant them (YAML 1.2)
	// yaml11 holds, per object, how a YAML 1.1 reader (kubectl) reads it.
	yaml11 []map[string]any
	err    error // the render could not be run or read
}

// TestAPIServerAcceptsGeneratedRenders renders oracleCount generated configs and
// applies every object of each render that exits 0 with `kubectl apply --server-side
// --dry-run=server` to kube-apiserver v1.37.2 (Namespaces for real, so the dry run of
// the objects in them can be checked). The cert-manager CRDs come from cert-manager's
// Go module. Every object the API server refuses is a failure, reported with the
// config's index, its generator features, the object and the server's message.
func TestAPIServerAcceptsGeneratedRenders(t *testing.T) {
	began := time.Now()
	binaries := controlplane.RequireBinaries(t)
	aggapi := os.Getenv(oracleFunctionEnv)
	if aggapi == "" {
		aggapi = testutil.Aggapi(t)
	}
	schema, err := loadCRDSchema()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	ca, err := controlplane.NewCA("oracle provided CA")
	if err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, filepath.Join(work, oracleCAFile), ca.CertPEM)
	configs := oracleConfigs(t, schema, string(ca.CertPEM))

	cp := controlplane.StartForTest(t, controlplane.Options{Binaries: binaries})
	admin, err := cp.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	k := &oracleKubectl{bin: binaries.Kubectl, kubeconfig: cp.Kubeconfig, cacheDir: filepath.Join(work, "kubectl-cache")}
	certManager := installCertManagerCRDs(t, k)
	monitoring := installServiceMonitorCRD(t, k)
	k.cacheDir = filepath.Join(work, "kubectl-cache-crds") // discovery with the CRDs
	checkOracleRefuses(t, k)
	setup := time.Since(began)

	var (
		mu             sync.Mutex
		namespaces     = map[string]bool{}
		refusedByFn    = map[string][]int{} // first error line, class → config indexes
		rendered       int
		objectsByKind  = map[string]int{}
		acceptedByKind = map[string]int{}
		skippedByKind  = map[string]int{}
		refusals       []apiRefusal
		yamlMismatches []string
		renderTime     time.Duration
		applyTime      time.Duration
		webhookRefused int // by the cert-manager webhook's rules
	)
	ensureNamespace := func(ctx context.Context, ns string) error {
		mu.Lock()
		done := namespaces[ns]
		mu.Unlock()
		if done {
			return nil
		}
		err := admin.Create(ctx, "/api/v1/namespaces", object("v1", "Namespace", "", ns), nil)
		if err != nil && !controlplane.IsStatus(err, http.StatusConflict) {
			return err
		}
		mu.Lock()
		namespaces[ns] = true
		mu.Unlock()
		return nil
	}

	work1 := func(c oracleConfig) {
		ctx := t.Context()
		t0 := time.Now()
		r := renderConfig(ctx, aggapi, work, c)
		t1 := time.Now()
		mu.Lock()
		renderTime += t1.Sub(t0)
		mu.Unlock()
		if r.err != nil {
			t.Errorf("config %d: %v", c.Index, r.err)
			return
		}
		if r.exit != 0 {
			mu.Lock()
			class := functionRefusalClass(r.stderr)
			refusedByFn[class] = append(refusedByFn[class], c.Index)
			mu.Unlock()
			return
		}
		var mismatches []string
		for i, obj := range r.objects {
			if d := firstDifference(obj, r.yaml11[i], ""); d != "" {
				mismatches = append(mismatches, fmt.Sprintf("config %d: kubectl (YAML 1.1) reads %s differently at %s", c.Index, objectKey(obj), d))
			}
		}
		// Namespaces first, for real: the dry run of a namespaced object needs its namespace.
		var list []any
		var local []apiRefusal
		needed := map[string]bool{}
		skipped := map[string]int{}
		created := 0 // Namespaces created for real
		for _, obj := range r.objects {
			kind, _ := obj["kind"].(string)
			if !certManager && strings.HasPrefix(apiVersionOf(obj), "cert-manager.io/") ||
				!monitoring && strings.HasPrefix(apiVersionOf(obj), "monitoring.coreos.com/") {
				skipped[kind]++
				continue
			}
			if ns := namespaceOf(obj); ns != "" {
				needed[ns] = true
			}
			if kind == "Namespace" {
				err := admin.Create(ctx, "/api/v1/namespaces", obj, nil)
				switch {
				case err == nil:
					mu.Lock()
					namespaces[nameOf(obj)] = true
					mu.Unlock()
					created++
					continue
				case controlplane.IsStatus(err, http.StatusConflict):
					// Made by an earlier config: the dry run checks it as an update.
				default:
					local = append(local, apiRefusal{config: c, object: obj, message: err.Error()})
					continue
				}
			}
			list = append(list, obj)
		}
		for ns := range needed {
			if err := ensureNamespace(ctx, ns); err != nil {
				t.Errorf("config %d: creating namespace %s for the dry run: %v", c.Index, ns, err)
			}
		}
		accepted := map[string]bool{}
		var stderr string
		if len(list) > 0 {
			accepted, stderr = k.dryRunApply(ctx, list)
		}
		t2 := time.Now()
		mu.Lock()
		defer mu.Unlock()
		applyTime += t2.Sub(t1)
		rendered++
		acceptedByKind["Namespace"] += created
		yamlMismatches = append(yamlMismatches, mismatches...)
		for kind, n := range skipped {
			skippedByKind[kind] += n
		}
		for _, obj := range r.objects {
			objectsByKind[obj["kind"].(string)]++
		}
		for _, o := range list {
			obj := o.(map[string]any)
			if accepted[objectKey(obj)] {
				if msgs := certManagerWebhookErrors(obj); len(msgs) > 0 {
					webhookRefused++
					local = append(local, apiRefusal{config: c, object: obj, message: "cert-manager's webhook (" +
						certManagerVersion + " rules, checked by this test) would refuse it: " + strings.Join(msgs, "; ")})
					continue
				}
				acceptedByKind[obj["kind"].(string)]++
				continue
			}
			local = append(local, apiRefusal{config: c, object: obj, message: messageFor(stderr, obj)})
		}
		refusals = append(refusals, local...)
	}

	queue := make(chan oracleConfig)
	var wg sync.WaitGroup
	for range oracleWorkers {
		wg.Go(func() {
			for c := range queue {
				work1(c)
			}
		})
	}
	for _, c := range configs {
		queue <- c
	}
	close(queue)
	wg.Wait()

	// The figures.
	refusedCount := 0
	for _, idx := range refusedByFn {
		refusedCount += len(idx)
	}
	totalObjects, totalAccepted := 0, 0
	for _, n := range objectsByKind {
		totalObjects += n
	}
	for _, n := range acceptedByKind {
		totalAccepted += n
	}
	refusedConfigs := map[int]bool{}
	for _, rf := range refusals {
		refusedConfigs[rf.config.Index] = true
	}
	t.Logf("seed %d, %d configs: %d rendered (exit 0), %d refused by the function; %d renders wholly accepted by the API server, %d with refused objects",
		oracleSeed, oracleCount, rendered, refusedCount, rendered-len(refusedConfigs), len(refusedConfigs))
	t.Logf("objects: %d rendered, %d accepted by the API server, %d refused (%d of them only by cert-manager's webhook rules), %d not applied (cert-manager or ServiceMonitor CRDs missing)",
		totalObjects, totalAccepted, len(refusals), webhookRefused, sumCounts(skippedByKind))
	t.Logf("per kind (rendered/accepted): %s", perKind(objectsByKind, acceptedByKind))
	t.Logf("refused by the function, by first error: %s", formatIndexes(refusedByFn))
	t.Logf("time: setup %v, render %v and apply %v summed over %d workers, wall %v",
		setup.Round(time.Millisecond), renderTime.Round(time.Millisecond), applyTime.Round(time.Millisecond), oracleWorkers, time.Since(began).Round(time.Millisecond))
	if !certManager {
		t.Logf("note: %d cert-manager or monitoring objects were not applied: their CRDs could not be installed", sumCounts(skippedByKind))
	}

	for _, m := range yamlMismatches {
		t.Error(m)
	}
	reportRefusals(t, refusals)
	if rendered < oracleCount/2 {
		t.Errorf("only %d of %d configs rendered: the generator makes too few configs the function accepts to test the API server", rendered, oracleCount)
	}
}

// apiRefusal is one object the API server refused.
type apiRefusal struct {
	config  oracleConfig
	object  map[string]any
	message string
}

// reportRefusals fails the test once per class of refusal (kind, field, reason), with
// the count, the configs and up to two examples in full.
func reportRefusals(t *testing.T, refusals []apiRefusal) {
	t.Helper()
	byClass := map[string][]apiRefusal{}
	for _, rf := range refusals {
		for _, class := range refusalClasses(rf) {
			byClass[class] = append(byClass[class], rf)
		}
	}
	for _, class := range slices.Sorted(maps.Keys(byClass)) {
		rfs := byClass[class]
		var idx []int
		features := map[string]int{}
		for _, rf := range rfs {
			if !slices.Contains(idx, rf.config.Index) {
				idx = append(idx, rf.config.Index)
				for _, f := range rf.config.Features {
					features[f]++
				}
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "the API server refused %d objects: %s\n  configs (seed %d): %v\n  their generator features: %s\n",
			len(rfs), class, oracleSeed, idx, formatCounts(features))
		for _, rf := range rfs[:min(2, len(rfs))] {
			obj, _ := json.Marshal(rf.object)
			fmt.Fprintf(&b, "  config %d, %s: %s\n    object: %s\n", rf.config.Index, objectKey(rf.object),
				truncate(rf.message, 1500), truncate(string(obj), 1500))
		}
		t.Error(b.String())
	}
}

var (
	// The field errors of an API server message: "<path>: <Reason>: <detail>".
	fieldError = regexp.MustCompile(`([A-Za-z0-9_.\[\]/-]+): (Invalid value|Required value|Unsupported value|Forbidden|Too long|Too many|Duplicate value|Not found)(: [^,\]]*)?`)
	quoted     = regexp.MustCompile(`"(\\.|[^"\\])*"`)
	indexes    = regexp.MustCompile(`\[[^\]]*\]`)
	numbers    = regexp.MustCompile(`\b\d+(\.\d+)?([a-zA-Z]*)\b`)
)

// refusalClasses names the reasons of one refusal without its values: kind, field
// path (list indexes dropped) and reason.
func refusalClasses(rf apiRefusal) []string {
	kind := fmt.Sprint(rf.object["kind"])
	var classes []string
	for _, m := range fieldError.FindAllStringSubmatch(rf.message, -1) {
		detail := quoted.ReplaceAllString(m[3], `"…"`)
		detail = numbers.ReplaceAllString(detail, "N")
		path := indexes.ReplaceAllString(strings.TrimLeft(m[1], "["), "[]")
		c := fmt.Sprintf("%s %s: %s%s", kind, path, m[2], truncate(detail, 120))
		if !slices.Contains(classes, c) {
			classes = append(classes, c)
		}
	}
	if len(classes) == 0 {
		msg := quoted.ReplaceAllString(rf.message, `"…"`)
		classes = append(classes, kind+": "+truncate(numbers.ReplaceAllString(msg, "N"), 200))
	}
	return classes
}

// functionRefusalClass is the first error line of a refused render, without values.
func functionRefusalClass(stderr string) string {
	for line := range strings.Lines(stderr) {
		if rest, ok := strings.CutPrefix(line, "aggapi: error: "); ok {
			rest = strings.ReplaceAll(strings.TrimSpace(rest), "`", "")
			// "<file>: <field>: Invalid value: <value>: <detail>" → field and reason.
			rest = indexes.ReplaceAllString(rest, "[]")
			if m := fieldError.FindStringSubmatch(rest); m != nil {
				rest = m[1] + ": " + m[2] + m[3]
			}
			rest = numbers.ReplaceAllString(quoted.ReplaceAllString(rest, `"…"`), "N")
			rest, _, _ = strings.Cut(rest, " (")
			return truncate(rest, 150)
		}
	}
	return "(no error line) " + truncate(stderr, 150)
}

// renderConfig runs bin/aggapi on the config as a KRM function in dir (which holds
// the CA file mode provided may name) and reads the objects of a render that exits 0
// twice: as YAML 1.2 (what the function meant) and as kubectl reads YAML (1.1).
func renderConfig(ctx context.Context, aggapi, dir string, c oracleConfig) renderResult {
	res := renderResult{config: c}
	stdin := testutil.ResourceList("", string(c.JSON())+"\n")
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, aggapi)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res.stderr = stderr.String()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() > 0:
		res.exit = exit.ExitCode()
		return res
	default:
		res.err = fmt.Errorf("running the function: %v\n%s", err, truncate(res.stderr, 2000))
		return res
	}
	var list struct {
		Items []map[string]any `yaml:"items"`
	}
	if err := yaml.Unmarshal(stdout.Bytes(), &list); err != nil {
		res.err = fmt.Errorf("reading the function's output: %v", err)
		return res
	}
	var list11 struct {
		Items []map[string]any `json:"items"`
	}
	if err := sigsyaml.Unmarshal(stdout.Bytes(), &list11); err != nil {
		res.err = fmt.Errorf("reading the function's output as kubectl does (YAML 1.1): %v", err)
		return res
	}
	if len(list.Items) != len(list11.Items) {
		res.err = fmt.Errorf("the output holds %d items as YAML 1.2, %d as YAML 1.1", len(list.Items), len(list11.Items))
		return res
	}
	for i := range list.Items {
		res.objects = append(res.objects, jsonRoundTrip(list.Items[i]))
		res.yaml11 = append(res.yaml11, jsonRoundTrip(list11.Items[i]))
	}
	return res
}

// jsonRoundTrip is v as encoding/json reads it back (numbers float64), so two decodes compare.
func jsonRoundTrip(v map[string]any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// firstDifference is the path of the first place a and b differ, or "".
func firstDifference(a, b any, path string) string {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s (%T vs %T)", path, a, b)
		}
		for _, k := range slices.Sorted(maps.Keys(a)) {
			if d := firstDifference(a[k], bm[k], path+"."+k); d != "" {
				return d
			}
		}
		if len(a) != len(bm) {
			return path + " (other keys)"
		}
	case []any:
		bl, ok := b.([]any)
		if !ok || len(a) != len(bl) {
			return fmt.Sprintf("%s (list vs %T)", path, b)
		}
		for i := range a {
			if d := firstDifference(a[i], bl[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
	default:
		if !reflect.DeepEqual(a, b) {
			return fmt.Sprintf("%s: %q vs %q", path, truncate(fmt.Sprint(a), 80), truncate(fmt.Sprint(b), 80))
		}
	}
	return ""
}

// oracleKubectl runs kubectl quietly (thousands of calls would drown the log).
type oracleKubectl struct {
	bin, kubeconfig, cacheDir string
}

func (k *oracleKubectl) run(ctx context.Context, stdin []byte, args ...string) (stdout, stderr []byte, err error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.bin, append([]string{"--kubeconfig=" + k.kubeconfig, "--cache-dir=" + k.cacheDir}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.Bytes(), errOut.Bytes(), err
}

// dryRunApply applies the objects in one List with a server-side dry run (forcing
// conflicts: a Namespace made by an earlier config is another manager's) and returns
// the keys (objectKey) of the objects the API server accepted, and kubectl's stderr.
func (k *oracleKubectl) dryRunApply(ctx context.Context, objects []any) (map[string]bool, string) {
	list, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": objects})
	if err != nil {
		panic(err)
	}
	stdout, stderr, _ := k.run(ctx, list, "apply", "--server-side", "--force-conflicts", "--dry-run=server", "--field-manager=aggapi-oracle", "-f", "-")
	accepted := map[string]bool{}
	// One line per accepted object: "<kind>.<group>/<name> serverside-applied (server dry run)".
	for line := range strings.Lines(string(stdout)) {
		if id, ok := strings.CutSuffix(strings.TrimSpace(line), " serverside-applied (server dry run)"); ok {
			accepted[id] = true
		}
	}
	return accepted, string(stderr)
}

// objectKey is how kubectl names an object in its output: <kind>.<group>/<name>.
func objectKey(obj map[string]any) string {
	kind := strings.ToLower(fmt.Sprint(obj["kind"]))
	if group, _, ok := strings.Cut(apiVersionOf(obj), "/"); ok {
		kind += "." + group
	}
	return kind + "/" + nameOf(obj)
}

func apiVersionOf(obj map[string]any) string { s, _ := obj["apiVersion"].(string); return s }

func metadataOf(obj map[string]any) map[string]any {
	m, _ := obj["metadata"].(map[string]any)
	return m
}

func nameOf(obj map[string]any) string { s, _ := metadataOf(obj)["name"].(string); return s }

func namespaceOf(obj map[string]any) string {
	s, _ := metadataOf(obj)["namespace"].(string)
	return s
}

// messageFor picks kubectl's error lines that name the object, with the "* <field>:
// ..." lines that follow them; all of stderr when none does.
func messageFor(stderr string, obj map[string]any) string {
	name := `"` + nameOf(obj) + `"`
	kind := strings.ToLower(fmt.Sprint(obj["kind"]))
	var lines []string
	inside := false
	for line := range strings.Lines(stderr) {
		line = strings.TrimSpace(line)
		switch {
		case strings.Contains(line, name) && strings.Contains(strings.ToLower(line), kind):
			inside = true
			lines = append(lines, line)
		case inside && strings.HasPrefix(line, "* "):
			lines = append(lines, line)
		default:
			inside = false
		}
	}
	if len(lines) == 0 {
		if strings.TrimSpace(stderr) == "" {
			return "(kubectl printed no error, and no line saying the object was applied)"
		}
		return strings.TrimSpace(stderr)
	}
	return strings.Join(lines, "\n")
}

// certManagerWebhookErrors checks a Certificate against the rules cert-manager's
// webhook adds to its CRD schema (internal/apis/certmanager/validation in
// cert-manager v1.21.2, ValidateDuration and the secretTemplate checks): no webhook
// runs here, and a Certificate it refuses breaks the install as surely.
func certManagerWebhookErrors(obj map[string]any) []string {
	if obj["kind"] != "Certificate" || !strings.HasPrefix(apiVersionOf(obj), "cert-manager.io/") {
		return nil
	}
	spec, _ := obj["spec"].(map[string]any)
	var errs []string
	parse := func(key string) (time.Duration, bool) {
		s, ok := spec[key].(string)
		if !ok {
			return 0, false
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			errs = append(errs, fmt.Sprintf("spec.%s %q: %v", key, s, err))
		}
		return d, true
	}
	duration, hasDuration := parse("duration")
	renewBefore, hasRenewBefore := parse("renewBefore")
	if hasDuration || hasRenewBefore {
		if !hasDuration {
			duration = 90 * 24 * time.Hour // cert-manager's default
		}
		if duration < time.Hour {
			errs = append(errs, fmt.Sprintf("spec.duration %v: certificate duration must be greater than 1h0m0s", duration))
		}
		if hasRenewBefore && renewBefore < 5*time.Minute {
			errs = append(errs, fmt.Sprintf("spec.renewBefore %v: certificate renewBefore must be greater than 5m0s", renewBefore))
		}
		if hasRenewBefore && renewBefore >= duration {
			errs = append(errs, fmt.Sprintf("spec.renewBefore %v: certificate duration %v must be greater than renewBefore", renewBefore, duration))
		}
	}
	if _, both := spec["renewBeforePercentage"]; both && hasRenewBefore {
		errs = append(errs, "spec.renewBefore: renewBefore and renewBeforePercentage are mutually exclusive")
	}
	tmpl, _ := spec["secretTemplate"].(map[string]any)
	annotations, _ := tmpl["annotations"].(map[string]any)
	labels, _ := tmpl["labels"].(map[string]any)
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		if strings.HasPrefix(k, "cert-manager.io/") && k != "cert-manager.io/allow-direct-injection" {
			errs = append(errs, fmt.Sprintf("spec.secretTemplate.annotations %q: cert-manager.io/* annotations are not allowed", k))
		}
	}
	path := field.NewPath("spec", "secretTemplate")
	for _, e := range apivalidation.ValidateAnnotations(stringMap(annotations), path.Child("annotations")) {
		errs = append(errs, e.Error())
	}
	for _, e := range metav1validation.ValidateLabels(stringMap(labels), path.Child("labels")) {
		errs = append(errs, e.Error())
	}
	return errs
}

func stringMap(m map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}

// installCertManagerCRDs installs cert-manager's CRDs from its Go module, read from the
// module cache (hack/e2e/install.sh downloads it; the test itself reaches no network).
// Without them the test skips cert-manager objects and says so; with
// AGGAPI_REQUIRE_TOOLS=1 it fails.
func installCertManagerCRDs(t *testing.T, k *oracleKubectl) bool {
	t.Helper()
	dir, err := downloadModule(t, certManagerModule, certManagerVersion)
	if err != nil {
		if testutil.ToolsRequired() {
			t.Fatalf("cert-manager CRDs (make e2e-tools downloads them): %v", err)
		}
		t.Logf("note: cert-manager CRDs unavailable, cert-manager objects will not be applied: %v", err)
		return false
	}
	var docs []byte
	for _, f := range []string{"cert-manager.io_certificates.yaml", "cert-manager.io_issuers.yaml", "cert-manager.io_clusterissuers.yaml", "cert-manager.io_certificaterequests.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, "deploy", "crds", f))
		if err != nil {
			t.Fatalf("cert-manager %s: %v", certManagerVersion, err)
		}
		docs = append(append(docs, "\n---\n"...), b...)
	}
	if _, stderr, err := k.run(t.Context(), docs, "apply", "--server-side", "-f", "-"); err != nil {
		t.Fatalf("installing the cert-manager CRDs: %v\n%s", err, stderr)
	}
	if _, stderr, err := k.run(t.Context(), nil, "wait", "--for=condition=Established", "--timeout=60s",
		"crd/certificates.cert-manager.io", "crd/issuers.cert-manager.io"); err != nil {
		t.Fatalf("waiting for the cert-manager CRDs: %v\n%s", err, stderr)
	}
	return true
}

// installServiceMonitorCRD installs prometheus-operator's ServiceMonitor CRD from its
// Go module in the module cache (hack/e2e/install.sh downloads it), as
// installCertManagerCRDs does cert-manager's.
func installServiceMonitorCRD(t *testing.T, k *oracleKubectl) bool {
	t.Helper()
	dir, err := downloadModule(t, prometheusOperatorModule, prometheusOperatorVersion)
	if err != nil {
		if testutil.ToolsRequired() {
			t.Fatalf("prometheus-operator's ServiceMonitor CRD (make e2e-tools downloads it): %v", err)
		}
		t.Logf("note: the ServiceMonitor CRD is unavailable, ServiceMonitors will not be applied: %v", err)
		return false
	}
	crd, err := os.ReadFile(filepath.Join(dir, "example", "prometheus-operator-crd", "monitoring.coreos.com_servicemonitors.yaml"))
	if err != nil {
		t.Fatalf("prometheus-operator %s: %v", prometheusOperatorVersion, err)
	}
	if _, stderr, err := k.run(t.Context(), crd, "apply", "--server-side", "-f", "-"); err != nil {
		t.Fatalf("installing the ServiceMonitor CRD: %v\n%s", err, stderr)
	}
	if _, stderr, err := k.run(t.Context(), nil, "wait", "--for=condition=Established", "--timeout=60s",
		"crd/servicemonitors.monitoring.coreos.com"); err != nil {
		t.Fatalf("waiting for the ServiceMonitor CRD: %v\n%s", err, stderr)
	}
	return true
}

// downloadModule returns the directory of a module version in the module cache.
func downloadModule(t *testing.T, module, version string) (string, error) {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go") //nolint:staticcheck // the go that built this test first (PATH's is the fallback)
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			return "", err
		}
	}
	cmd := exec.CommandContext(t.Context(), goBin, "mod", "download", "-json", module+"@"+version)
	cmd.Dir = t.TempDir() // outside this module: its go.mod stays as it is
	// GOPROXY=off: from the module cache only. hack/e2e/install.sh downloads the module;
	// a test sends nothing beyond loopback.
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GO111MODULE=on", "GOPROXY=off")
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return "", fmt.Errorf("go mod download %s@%s: %v\n%s%s", module, version, err, out, exit.Stderr)
		}
		return "", err
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %s %v", module, version, info.Error, err)
	}
	return info.Dir, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("… (%d bytes)", len(s))
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func formatCounts(m map[string]int) string {
	keys := slices.Sorted(maps.Keys(m))
	sort.SliceStable(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func formatIndexes(m map[string][]int) string {
	keys := slices.Sorted(maps.Keys(m))
	sort.SliceStable(keys, func(i, j int) bool { return len(m[keys[i]]) > len(m[keys[j]]) })
	var b strings.Builder
	for _, k := range keys {
		idx := m[k]
		fmt.Fprintf(&b, "\n  %d × %s (configs %v)", len(idx), k, idx[:min(len(idx), 8)])
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

func perKind(all, accepted map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(all)) {
		parts = append(parts, fmt.Sprintf("%s %d/%d", k, all[k], accepted[k]))
	}
	return strings.Join(parts, ", ")
}
