package manifests

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"k8s.io/kube-aggregator/pkg/apis/apiregistration"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"k8s.io/kube-aggregator/pkg/apis/apiregistration/validation"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/internal/testutil/goldenconfig"
)

// TestAPIServicesPassTheAggregatorsValidation runs the kube-aggregator's own
// ValidateAPIService over the APIServices of every valid config under testdata: what
// the function accepts, the API server accepts.
func TestAPIServicesPassTheAggregatorsValidation(t *testing.T) {
	checked := 0
	for _, c := range goldenconfig.Valid(t) {
		p, api := c.Path, c.API
		for _, g := range api.APIGroups() {
			for _, v := range g.Versions {
				svc := APIService(api, g, v, []byte("-----BEGIN CERTIFICATE-----\n"))
				var internal apiregistration.APIService
				if err := apiregv1.Convert_v1_APIService_To_apiregistration_APIService(svc, &internal, nil); err != nil {
					t.Fatal(err)
				}
				if errs := validation.ValidateAPIService(context.Background(), &internal); len(errs) > 0 {
					t.Errorf("%s: APIService %s: %v", p, svc.Name, errs)
				}
				checked++
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d APIServices checked", checked)
	}
}

// TestPriorityRangesAreTheAggregators: the schema's ranges of groupPriorityMinimum and
// versionPriority (markers in types.go) accept exactly what the kube-aggregator's
// ValidateAPIService accepts, probed at the aggregator's edges.
func TestPriorityRangesAreTheAggregators(t *testing.T) {
	for _, c := range []struct {
		field  string
		values []int32
	}{
		{"groupPriorityMinimum", []int32{0, 1, 20000, 20001}},
		{"versionPriority", []int32{0, 1, 1000, 1001}},
	} {
		for _, v := range c.values {
			group, version := int32(1000), int32(15)
			if c.field == "groupPriorityMinimum" {
				group = v
			} else {
				version = v
			}
			svc := &apiregv1.APIService{Spec: apiregv1.APIServiceSpec{Group: "wardle.example.com", Version: "v1", GroupPriorityMinimum: group, VersionPriority: version}}
			svc.Name = "v1.wardle.example.com"
			var internal apiregistration.APIService
			if err := apiregv1.Convert_v1_APIService_To_apiregistration_APIService(svc, &internal, nil); err != nil {
				t.Fatal(err)
			}
			aggregatorOK := len(validation.ValidateAPIService(context.Background(), &internal).Filter(func(e error) bool {
				return !strings.Contains(e.Error(), "Priority")
			})) == 0
			_, errs := config.Load(fmt.Appendf(nil, `
apiVersion: aggapi.dev/v1alpha1
kind: AggregatedAPI
metadata: {name: wardle}
spec:
  group: wardle.example.com
  versions: [{name: v1, versionPriority: %d}]
  groupPriorityMinimum: %d
  server: {image: example.com/wardle:v1}
`, version, group))
			if configOK := len(errs) == 0; configOK != aggregatorOK {
				t.Errorf("%s %d: the config accepts it: %v, the aggregator: %v (%v)", c.field, v, configOK, aggregatorOK, errs)
			}
		}
	}
}
