package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	sigsjson "sigs.k8s.io/json"

	"github.com/aggapi/aggapi/fn/config/internal/schemacheck"
)

// The fields below hold Kubernetes types. The schema only says "object" for them
// (x-kubernetes-preserve-unknown-fields), and Validate decodes them strictly into
// their types from k8s.io/api, so an unknown or mistyped field is an error with its path.

// PodTemplatePatch is spec.server.podTemplate as JSON, nil when absent or empty: the
// patch the function merges onto the generated pod template.
func (s Server) PodTemplatePatch() []byte {
	return rawObject(s.PodTemplate)
}

// IngressRules are spec.networkPolicy.extraIngress decoded; call it on a validated config.
func (np *NetworkPolicy) IngressRules() []networkingv1.NetworkPolicyIngressRule {
	return decodeAll[networkingv1.NetworkPolicyIngressRule](np.ExtraIngress)
}

// EgressRules are spec.networkPolicy.extraEgress decoded; call it on a validated config.
func (np *NetworkPolicy) EgressRules() []networkingv1.NetworkPolicyEgressRule {
	return decodeAll[networkingv1.NetworkPolicyEgressRule](np.ExtraEgress)
}

func decodeAll[T any](raws []runtime.RawExtension) []T {
	var out []T
	for _, r := range raws {
		var v T
		_ = sigsjson.UnmarshalCaseSensitivePreserveInts(r.Raw, &v) // as decodeStrict did
		out = append(out, v)
	}
	return out
}

func rawObject(r *runtime.RawExtension) []byte {
	if r == nil {
		return nil
	}
	raw := bytes.TrimSpace(r.Raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) || bytes.Equal(raw, []byte("{}")) {
		return nil
	}
	return raw
}

// decodeStrict decodes raw into v as the API server would, reporting unknown and
// duplicate fields and type mismatches at their paths under p.
func decodeStrict(p *field.Path, raw []byte, v any) field.ErrorList {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return field.ErrorList{field.Required(p, "must be an object")}
	}
	strictErrs, err := sigsjson.UnmarshalStrict(raw, v)
	var errs field.ErrorList
	for _, e := range strictErrs {
		if m := unknownField().FindStringSubmatch(e.Error()); m != nil {
			errs = append(errs, field.Forbidden(under(p, m[1]), fmt.Sprintf("unknown field: not in %s", embeddedTypeName(v))))
			continue
		}
		errs = append(errs, field.Invalid(p, field.OmitValueType{}, e.Error()))
	}
	if err != nil {
		// encoding/json names the field of a type mismatch; the forked decoder's
		// error type is internal.
		var te *json.UnmarshalTypeError
		if jerr := json.Unmarshal(raw, new(any)); jerr == nil {
			if jerr = json.Unmarshal(raw, v); errors.As(jerr, &te) && te.Field != "" {
				// The value given, where the path finds it (encoding/json's has no list indexes).
				var given any = te.Value
				var generic any
				if json.Unmarshal(raw, &generic) == nil {
					if found, ok := valueAt(generic, te.Field); ok {
						given = capValue(found)
					}
				}
				return append(errs, field.Invalid(under(p, te.Field), given, "must be of type "+te.Type.String()))
			}
		}
		errs = append(errs, field.Invalid(p, field.OmitValueType{}, err.Error()))
	}
	return errs
}

func under(p *field.Path, rel string) *field.Path {
	return schemacheck.PathFrom(p.String() + "." + rel)
}

func embeddedTypeName(v any) string {
	switch v.(type) {
	case *corev1.PodTemplateSpec:
		return "PodTemplateSpec (core/v1)"
	case *networkingv1.NetworkPolicyIngressRule:
		return "NetworkPolicyIngressRule (networking.k8s.io/v1)"
	case *networkingv1.NetworkPolicyEgressRule:
		return "NetworkPolicyEgressRule (networking.k8s.io/v1)"
	}
	return fmt.Sprintf("%T", v)
}
