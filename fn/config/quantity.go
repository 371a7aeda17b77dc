package config

import (
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/inf.v0"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxQuantityBytes bounds a quantity before it is parsed: resource.ParseQuantity
// computes 10^exponent, so '1e-999999999' (12 bytes) would never finish.
const maxQuantityBytes = 64

// quantityForm is the grammar of resource.ParseQuantity without the sign, with the
// exponent cut to three digits (anything larger is out of range anyway).
var quantityForm = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^\+?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([-+]?[0-9]{1,3})|([KMGTPE]i)|([numkMGTPE]))?$`)
})

var (
	decimalExponents = map[string]int{"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
	binaryExponents  = map[string]uint{"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
	maxQuantity      = inf.NewDec(1<<63-1, 0) // apimachinery caps binary quantities here
)

// quantities checks container resources: names Kubernetes accepts, and quantities that
// parse quickly and mean exactly what they say (resource.ParseQuantity silently caps
// 123456789Ei at 2^63-1 and rounds 1e-12 up to 1n).
func quantities(p *field.Path, m map[string]string) field.ErrorList {
	var errs field.ErrorList
	for _, k := range slices.Sorted(maps.Keys(m)) {
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, field.Invalid(p.Key(k), k, "a resource name such as cpu, memory or example.com/gpu: "+msg))
		}
		if err := checkQuantity(m[k]); err != "" {
			errs = append(errs, field.Invalid(p.Key(k), m[k], err))
		}
	}
	return errs
}

// checkQuantity returns what is wrong with a quantity, or "".
func checkQuantity(v string) string {
	const want = "must be a quantity such as 100m or 128Mi"
	switch {
	case len(v) > maxQuantityBytes:
		return fmt.Sprintf("%s, at most %d characters", want, maxQuantityBytes)
	case strings.HasPrefix(v, "-"):
		return "must not be negative"
	}
	f := quantityForm().FindStringSubmatch(v)
	if f == nil {
		return want
	}
	exact, ok := new(inf.Dec).SetString(f[1])
	if !ok {
		return want
	}
	switch {
	case f[2] != "":
		e, _ := strconv.Atoi(f[2]) // at most three digits: the form says so
		exact.SetScale(exact.Scale() - inf.Scale(e))
	case f[3] != "":
		ub := exact.UnscaledBig()
		exact.SetUnscaledBig(ub.Mul(ub, new(big.Int).Lsh(big.NewInt(1), binaryExponents[f[3]])))
	default:
		exact.SetScale(exact.Scale() - inf.Scale(decimalExponents[f[4]]))
	}
	if exact.Cmp(maxQuantity) > 0 {
		return "is too large: Kubernetes keeps quantities up to 9223372036854775807 (8Ei)"
	}
	if exact.Sign() != 0 && new(inf.Dec).Round(exact, 9, inf.RoundUp).Cmp(exact) != 0 {
		return "is finer than 1n (a billionth), which Kubernetes would round it up to"
	}
	q, err := resource.ParseQuantity(v)
	if err != nil {
		return want
	}
	if q.AsDec().Cmp(exact) != 0 {
		return fmt.Sprintf("Kubernetes would store it as %s", q.String())
	}
	return ""
}
