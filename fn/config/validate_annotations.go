package config

import (
	"encoding/json"
	"fmt"
	"maps"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// totalAnnotationSizeLimit is what kube-apiserver allows for the annotations of one
// object, keys and values together: apimachinery's TotalAnnotationSizeLimitB (a
// constant of k8s.io/apimachinery/pkg/api/validation, whose other imports the function
// does not need; TestAnnotationLimitIsApimachinerys ties the two).
const totalAnnotationSizeLimit = 256 << 10

// annotationHeadroom is kept for the annotations that are not the user's: the function's
// own (config and rendered digests, version, the certificate hash, inject-ca-from,
// depends-on, sync-wave: under 2 KiB with the longest names), kpt's and kustomize's
// bookkeeping added after the render (file path, index, id, origin: a few file paths)
// and what the cluster adds (the ReplicaSets copy the Deployment's annotations and add
// revision and replica counts).
const annotationHeadroom = 16 << 10

// maxUserAnnotationBytes bounds the annotations from the config that reach one object.
const maxUserAnnotationBytes = totalAnnotationSizeLimit - annotationHeadroom

// validateAnnotationSizes checks, for each kind of generated object, that the
// annotations the config puts on it stay within maxUserAnnotationBytes:
// commonAnnotations go on every object (and the pod template), service.annotations,
// serviceAccount.annotations and the podTemplate's own annotations add to them on the
// object they reach. The error names the map that tips the object over.
func validateAnnotationSizes(spec *field.Path, s AggregatedAPISpec) field.ErrorList {
	common := annotationBytes(s.CommonAnnotations)
	if common > maxUserAnnotationBytes {
		return field.ErrorList{annotationsTooLong(spec.Child("commonAnnotations"), common, "every generated object")}
	}
	var errs field.ErrorList
	for _, m := range []struct {
		path   *field.Path
		values map[string]string
		object string
	}{
		{spec.Child("service", "annotations"), s.Service.Annotations, "the Service"},
		{spec.Child("serviceAccount", "annotations"), s.ServiceAccount.Annotations, "the ServiceAccount"},
		{spec.Child("server", "podTemplate", "metadata", "annotations"), podTemplateAnnotations(s.Server), "the pod template (and each pod)"},
	} {
		if len(m.values) == 0 {
			continue
		}
		merged := maps.Clone(s.CommonAnnotations)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, m.values) // the object's own win over commonAnnotations, as in the render
		if n := annotationBytes(merged); n > maxUserAnnotationBytes {
			errs = append(errs, annotationsTooLong(m.path, n, m.object))
		}
	}
	return errs
}

func annotationsTooLong(p *field.Path, n int, object string) *field.Error {
	e := field.TooLong(p, "", maxUserAnnotationBytes)
	e.Detail = fmt.Sprintf("the annotations of %s would total %d bytes (keys and values, with commonAnnotations); kube-apiserver allows %d per object, and %d are kept for the function's and the tools' own: at most %d",
		object, n, totalAnnotationSizeLimit, annotationHeadroom, maxUserAnnotationBytes)
	return e
}

// annotationBytes is the size kube-apiserver counts: the keys and values together.
func annotationBytes(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}

// podTemplateAnnotations are the annotations spec.server.podTemplate adds to the pod
// template; nil when there are none or the template does not decode (Validate reports that).
func podTemplateAnnotations(sv Server) map[string]string {
	raw := sv.PodTemplatePatch()
	if raw == nil {
		return nil
	}
	var t struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	if json.Unmarshal(raw, &t) != nil {
		return nil
	}
	return t.Metadata.Annotations
}
