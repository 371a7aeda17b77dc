package verify

import (
	"fmt"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/manifests"
)

// PodTemplateFindings is what manifests.CheckPodTemplate, the rule render applies, finds
// in the pod template config api gives its Deployment (read from source), one error
// each: a render of api fails on them, so no manifests in hand can be its output.
func PodTemplateFindings(api *config.AggregatedAPI, source string) []Finding {
	var findings []Finding
	object := fmt.Sprintf("AggregatedAPI %s (%s)", api.Name, source)
	for _, e := range manifests.CheckPodTemplate(api) {
		findings = append(findings, Finding{Error, object, fmt.Sprintf("`%s`: %s: the function refuses to render this config", e.Field, e.ErrorBody())})
	}
	return findings
}
