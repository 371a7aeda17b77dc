package pipeline

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/internal/testutil"
)

// objID identifies one object of a render.
type objID struct{ APIVersion, Kind, Namespace, Name string }

func (id objID) String() string {
	if id.Namespace == "" {
		return fmt.Sprintf("%s %s %s", id.APIVersion, id.Kind, id.Name)
	}
	return fmt.Sprintf("%s %s %s/%s", id.APIVersion, id.Kind, id.Namespace, id.Name)
}

func idOf(t *testing.T, n *yaml.RNode) objID {
	t.Helper()
	m, err := n.GetMeta()
	if err != nil {
		t.Fatalf("object without metadata: %v\n%s", err, n.MustString())
	}
	return objID{m.APIVersion, m.Kind, m.Namespace, m.Name}
}

// expectation is what one AggregatedAPI config must render to.
type expectation struct {
	Owner          string // the config's name: the value of the aggapi.dev/owner label
	Group          string
	Versions       []string
	GroupVersions  [][2]string // {group, version} of every APIService, when the config serves several groups
	Namespace      string
	ServiceName    string
	ServicePort    int32
	DNSName        string // the name the kube-aggregator verifies: <service>.<namespace>.svc
	SecretName     string
	DeploymentName string
	ServiceAccount string
	Objects        []objID // exactly these, in any order
}

// wardle is the config of every bundled example.
var wardle = expectation{
	Owner:          "wardle",
	Group:          "wardle.example.com",
	Versions:       []string{"v1alpha1", "v1beta1"},
	Namespace:      "wardle",
	ServiceName:    "api",
	ServicePort:    443,
	DNSName:        "api.wardle.svc",
	SecretName:     "wardle-serving-cert",
	DeploymentName: "wardle-apiserver",
	ServiceAccount: "wardle-apiserver",
	Objects: []objID{
		{"v1", "Namespace", "", "wardle"},
		{"v1", "ServiceAccount", "wardle", "wardle-apiserver"},
		{"rbac.authorization.k8s.io/v1", "ClusterRole", "", "wardle-apiserver"},
		{"rbac.authorization.k8s.io/v1", "ClusterRole", "", "wardle-edit"},
		{"rbac.authorization.k8s.io/v1", "ClusterRole", "", "wardle-view"},
		{"rbac.authorization.k8s.io/v1", "RoleBinding", "kube-system", "wardle-auth-reader"},
		{"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "wardle-apiserver"},
		{"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "wardle-auth-delegator"},
		{"v1", "Secret", "wardle", "wardle-serving-cert"},
		{"v1", "Service", "wardle", "api"},
		{"apps/v1", "Deployment", "wardle", "wardle-apiserver"},
		{"apiregistration.k8s.io/v1", "APIService", "", "v1alpha1.wardle.example.com"},
		{"apiregistration.k8s.io/v1", "APIService", "", "v1beta1.wardle.example.com"},
	},
}

const (
	ownerLabel        = "aggapi.dev/owner"
	certHashAnno      = "aggapi.dev/serving-cert-sha256"
	localConfigAnno   = "config.kubernetes.io/local-config"
	privateKeyMarker  = "PRIVATE KEY"
	insecureSkipField = "insecureSkipTLSVerify"
)

// The bookkeeping annotations of kyaml, kustomize and kpt, and the annotations of the
// config itself: none may leak into a rendered object. (User-facing ones such as
// config.kubernetes.io/depends-on are fine.)
var (
	pipelineAnnotationPrefixes = []string{"internal.config.kubernetes.io/", "kustomize.config.k8s.io/"}
	pipelineAnnotations        = []string{
		"config.kubernetes.io/index", "config.kubernetes.io/path", "config.k8s.io/id",
		"config.kubernetes.io/function", localConfigAnno,
	}
)

func isPipelineAnnotation(key string) bool {
	return slices.Contains(pipelineAnnotations, key) ||
		slices.ContainsFunc(pipelineAnnotationPrefixes, func(p string) bool { return strings.HasPrefix(key, p) })
}

// rendered is a render that passed checkRender.
type rendered struct {
	Order   []objID // output order
	Objects map[objID]*yaml.RNode
	Secret  corev1.Secret
	Leaf    *x509.Certificate
}

// parseYAML reads a multi-document YAML stream (or a ResourceList) into objects.
func parseYAML(t *testing.T, data []byte) []*yaml.RNode {
	t.Helper()
	nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(data), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatalf("parsing the output as YAML: %v\n%s", err, data)
	}
	return nodes
}

// readTree reads every object of the .yaml/.yml files under dir (a kpt package);
// the Kptfile is not among them.
func readTree(t *testing.T, dir string) []*yaml.RNode {
	t.Helper()
	var nodes []*yaml.RNode
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := filepath.Ext(path); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		nodes = append(nodes, parseYAML(t, b)...)
		return nil
	})
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	return nodes
}

// splitLocalConfig separates the local-config objects (the Kptfile, the AggregatedAPI)
// from the objects meant for the cluster.
func splitLocalConfig(nodes []*yaml.RNode) (cluster, local []*yaml.RNode) {
	for _, n := range nodes {
		if n.GetAnnotations()[localConfigAnno] == "true" {
			local = append(local, n)
		} else {
			cluster = append(cluster, n)
		}
	}
	return cluster, local
}

// assertIDs checks that nodes are exactly want, in any order.
func assertIDs(t *testing.T, what string, nodes []*yaml.RNode, want []objID) {
	t.Helper()
	var got []string
	for _, n := range nodes {
		got = append(got, idOf(t, n).String())
	}
	var exp []string
	for _, id := range want {
		exp = append(exp, id.String())
	}
	slices.Sort(got)
	slices.Sort(exp)
	if !slices.Equal(got, exp) {
		t.Errorf("%s: objects\n  got  %q\n  want %q", what, got, exp)
	}
}

// checkRender checks the structure of one render of want's config: exactly the expected
// objects, all labelled with their owner and free of pipeline annotations; a
// kubernetes.io/tls Secret whose tls.key matches tls.crt and whose tls.crt verifies, for
// the Service's DNS name and server auth, against ca.crt and against the caBundle of
// every APIService; APIServices pointing at the Service without insecureSkipTLSVerify;
// a Service that reaches the Deployment's pods; a Deployment that mounts the Secret and
// carries the hash of tls.crt; and no private key anywhere but the Secret's tls.key,
// neither in plain text nor base64-encoded.
func checkRender(t *testing.T, nodes []*yaml.RNode, want expectation) *rendered {
	t.Helper()
	r := &rendered{Objects: map[objID]*yaml.RNode{}}
	for _, n := range nodes {
		id := idOf(t, n)
		if _, dup := r.Objects[id]; dup {
			t.Errorf("%s appears twice", id)
		}
		r.Order = append(r.Order, id)
		r.Objects[id] = n
	}
	assertIDs(t, "render", nodes, want.Objects)
	for _, id := range want.Objects {
		if r.Objects[id] == nil {
			t.Fatalf("cannot check the render further without %s", id)
		}
	}

	for _, id := range r.Order {
		n := r.Objects[id]
		if got := n.GetLabels()[ownerLabel]; got != want.Owner {
			t.Errorf("%s: label %s=%q, want %q", id, ownerLabel, got, want.Owner)
		}
		for k := range n.GetAnnotations() {
			if isPipelineAnnotation(k) {
				t.Errorf("%s: annotation %s leaked into the output", id, k)
			}
		}
		text := n.MustString()
		if strings.Contains(text, insecureSkipField) {
			t.Errorf("%s mentions %s:\n%s", id, insecureSkipField, text)
		}
		if strings.Contains(text, privateKeyMarker) {
			t.Errorf("%s holds a plain-text %q", id, privateKeyMarker)
		}
	}

	secretID := objID{"v1", "Secret", want.Namespace, want.SecretName}
	keyHits := 0
	for _, id := range r.Order {
		walkStrings(r.Objects[id].YNode(), "", func(path, value string) {
			if !containsPrivateKey(value) {
				return
			}
			if id == secretID && path == ".data.tls.key" {
				keyHits++
				return
			}
			t.Errorf("%s%s holds a private key", id, path)
		})
	}
	if keyHits != 1 {
		t.Errorf("%s: data.tls.key holds no PEM private key", secretID)
	}

	// The Secret and its certificates.
	decode(t, r.Objects[secretID], &r.Secret)
	if r.Secret.Type != corev1.SecretTypeTLS {
		t.Errorf("%s: type %q, want %q", secretID, r.Secret.Type, corev1.SecretTypeTLS)
	}
	var keys []string
	for k := range r.Secret.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"ca.crt", "tls.crt", "tls.key"}; !slices.Equal(keys, want) {
		t.Errorf("%s: data keys %q, want %q", secretID, keys, want)
	}
	if len(r.Secret.StringData) > 0 {
		t.Errorf("%s: unexpected stringData", secretID)
	}
	crtPEM, keyPEM := r.Secret.Data[corev1.TLSCertKey], r.Secret.Data[corev1.TLSPrivateKeyKey]
	if _, err := tls.X509KeyPair(crtPEM, keyPEM); err != nil {
		t.Errorf("%s: tls.key does not match tls.crt: %v", secretID, err)
	}
	chain := testutil.ParseCerts(t, secretID.String()+" tls.crt", crtPEM)
	r.Leaf = chain[0]
	if r.Leaf.IsCA {
		t.Errorf("%s: tls.crt is a CA certificate, want a serving certificate", secretID)
	}
	intermediates := x509.NewCertPool()
	for _, c := range chain[1:] {
		intermediates.AddCert(c)
	}
	verify := func(what string, bundle []byte) {
		t.Helper()
		roots := x509.NewCertPool()
		for _, c := range testutil.ParseCerts(t, what, bundle) {
			if !c.IsCA {
				t.Errorf("%s: %q is not a CA certificate", what, c.Subject)
			}
			roots.AddCert(c)
		}
		_, err := r.Leaf.Verify(x509.VerifyOptions{
			DNSName:       want.DNSName,
			Roots:         roots,
			Intermediates: intermediates,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		if err != nil {
			t.Errorf("tls.crt does not verify against %s for %s: %v", what, want.DNSName, err)
		}
	}
	verify(secretID.String()+" ca.crt", r.Secret.Data["ca.crt"])

	// The Service, and the Deployment behind it.
	serviceID := objID{"v1", "Service", want.Namespace, want.ServiceName}
	var svc corev1.Service
	decode(t, r.Objects[serviceID], &svc)
	deployID := objID{"apps/v1", "Deployment", want.Namespace, want.DeploymentName}
	var deploy appsv1.Deployment
	decode(t, r.Objects[deployID], &deploy)
	pod := deploy.Spec.Template
	for k, v := range svc.Spec.Selector {
		if pod.Labels[k] != v {
			t.Errorf("%s: selector %s=%s does not select the pods of %s (labels %v)", serviceID, k, v, deployID, pod.Labels)
		}
	}
	if len(svc.Spec.Selector) == 0 {
		t.Errorf("%s has no selector", serviceID)
	}
	var svcPort *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == want.ServicePort {
			svcPort = &svc.Spec.Ports[i]
		}
	}
	if svcPort == nil {
		t.Errorf("%s: no port %d", serviceID, want.ServicePort)
	} else if !podServes(pod.Spec, svcPort.TargetPort.IntVal, svcPort.TargetPort.StrVal) {
		t.Errorf("%s: targetPort %s is not a container port of %s", serviceID, svcPort.TargetPort.String(), deployID)
	}
	if pod.Spec.ServiceAccountName != want.ServiceAccount {
		t.Errorf("%s: serviceAccountName %q, want %q", deployID, pod.Spec.ServiceAccountName, want.ServiceAccount)
	}
	mounted := false
	for _, v := range pod.Spec.Volumes {
		mounted = mounted || (v.Secret != nil && v.Secret.SecretName == want.SecretName)
	}
	if !mounted {
		t.Errorf("%s does not mount Secret %s", deployID, want.SecretName)
	}
	sum := sha256.Sum256(crtPEM)
	if got, exp := pod.Annotations[certHashAnno], hex.EncodeToString(sum[:]); got != exp {
		t.Errorf("%s: pod annotation %s=%q, want the sha256 of tls.crt %q", deployID, certHashAnno, got, exp)
	}

	// One APIService per group and version, each trusting the serving certificate.
	groupVersions := want.GroupVersions
	for _, v := range want.Versions {
		groupVersions = append(groupVersions, [2]string{want.Group, v})
	}
	for _, gv := range groupVersions {
		group, v := gv[0], gv[1]
		id := objID{"apiregistration.k8s.io/v1", "APIService", "", v + "." + group}
		n := r.Objects[id]
		if n == nil {
			t.Errorf("no APIService for version %s", v)
			continue
		}
		if f, err := n.Pipe(yaml.Lookup("spec", insecureSkipField)); err != nil || f != nil {
			t.Errorf("%s: spec.%s is set", id, insecureSkipField)
		}
		var as apiregistrationv1.APIService
		decode(t, n, &as)
		if as.Spec.Group != group || as.Spec.Version != v {
			t.Errorf("%s: group/version %s/%s, want %s/%s", id, as.Spec.Group, as.Spec.Version, group, v)
		}
		switch ref := as.Spec.Service; {
		case ref == nil:
			t.Errorf("%s: no spec.service", id)
		case ref.Name != want.ServiceName || ref.Namespace != want.Namespace || ref.Port == nil || *ref.Port != want.ServicePort:
			t.Errorf("%s: spec.service %s/%s:%v, want %s/%s:%d", id, ref.Namespace, ref.Name, ptrString(ref.Port), want.Namespace, want.ServiceName, want.ServicePort)
		}
		if len(as.Spec.CABundle) == 0 {
			t.Errorf("%s: empty caBundle", id)
			continue
		}
		verify(id.String()+" caBundle", as.Spec.CABundle)
	}
	return r
}

func podServes(spec corev1.PodSpec, port int32, name string) bool {
	for _, c := range spec.Containers {
		for _, p := range c.Ports {
			if (name == "" && p.ContainerPort == port) || (name != "" && p.Name == name) {
				return true
			}
		}
	}
	return false
}

func ptrString(p *int32) string {
	if p == nil {
		return "<nil>"
	}
	return strconv.Itoa(int(*p))
}

// decode converts an object into its typed form.
func decode(t *testing.T, n *yaml.RNode, into any) {
	t.Helper()
	b, err := n.MarshalJSON()
	if err == nil {
		err = json.Unmarshal(b, into)
	}
	if err != nil {
		t.Fatalf("decoding %s into %T: %v", n.MustString(), into, err)
	}
}

// walkStrings calls fn with the path and value of every scalar under n.
func walkStrings(n *yaml.Node, path string, fn func(path, value string)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walkStrings(c, path, fn)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			fn(path+"."+n.Content[i].Value+"<key>", n.Content[i].Value)
			walkStrings(n.Content[i+1], path+"."+n.Content[i].Value, fn)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			walkStrings(c, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case yaml.ScalarNode:
		fn(path, n.Value)
	case yaml.AliasNode:
		if n.Alias != nil {
			walkStrings(n.Alias, path, fn)
		}
	}
}

// containsPrivateKey reports whether s, or s decoded from base64, holds a PEM private key.
func containsPrivateKey(s string) bool {
	if strings.Contains(s, privateKeyMarker) {
		return true
	}
	b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	return err == nil && bytes.Contains(b, []byte(privateKeyMarker))
}
