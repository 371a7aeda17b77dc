package manifests

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/kube-aggregator/pkg/apis/apiregistration"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"k8s.io/kube-aggregator/pkg/apis/apiregistration/validation"

	"github.com/aggapi/aggapi/fn/config"
)

// TestAPIServicesPassTheAggregatorsValidation runs the kube-aggregator's own
// ValidateAPIService over the APIServices of every valid config under testdata: what
// the function accepts, the API server accepts.
func TestAPIServicesPassTheAggregatorsValidation(t *testing.T) {
	paths, _ := filepath.Glob("../../testdata/*/config.yaml")
	checked := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		api, errs := config.Load(b)
		if len(errs) > 0 {
			continue // an error case
		}
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
