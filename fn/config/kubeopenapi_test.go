package config

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
	openapierrors "k8s.io/kube-openapi/pkg/validation/errors"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"

	"github.com/aggapi/aggapi/config/crd"
	"github.com/aggapi/aggapi/fn/config/internal/schemacheck"
)

// The schema check the function ran before schema_check.go: kube-openapi's validator,
// kept here as the reference the checker must agree with.

// kubeOpenAPIValidator builds kube-openapi's validator for a schema, as load.go did.
func kubeOpenAPIValidator(schemaJSON []byte) (*validate.SchemaValidator, error) {
	var s spec.Schema
	if err := json.Unmarshal(schemaJSON, &s); err != nil {
		return nil, fmt.Errorf("decoding the schema: %w", err)
	}
	return validate.NewSchemaValidator(&s, nil, "", strfmt.Default), nil
}

var (
	crdValidatorOnce sync.Once
	crdValidator     *validate.SchemaValidator
	crdValidatorErr  error
)

// kubeOpenAPIErrors is the old schemaErrors: the embedded CRD's schema, checked by kube-openapi.
func kubeOpenAPIErrors(generic map[string]any) field.ErrorList {
	crdValidatorOnce.Do(func() { crdValidator, crdValidatorErr = kubeOpenAPIValidator(crd.AggregatedAPISchema) })
	if crdValidatorErr != nil {
		return field.ErrorList{field.InternalError(field.NewPath(""), crdValidatorErr)}
	}
	errs := kubeOpenAPIFieldErrors(crdValidator, generic)
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
	return errs
}

func kubeOpenAPIFieldErrors(v *validate.SchemaValidator, doc any) field.ErrorList {
	var errs field.ErrorList
	for _, e := range v.Validate(doc).Errors {
		errs = append(errs, schemaError(e))
	}
	return errs
}

// schemaError turns a kube-openapi validation error into a field error whose path is the
// field's own, and whose message drops the validator's "<path> in body" prefix.
func schemaError(e error) *field.Error {
	var ve *openapierrors.Validation
	if v, ok := e.(*openapierrors.Validation); ok {
		ve = v
	}
	if ve == nil {
		return field.Invalid(field.NewPath(""), nil, e.Error())
	}
	path := ve.Name
	msg := ve.Error()
	msg = strings.TrimPrefix(msg, path+" in body ")
	msg = strings.TrimPrefix(msg, path+" ")
	if ve.Code() == openapierrors.RequiredFailCode || (ve.Code() == openapierrors.TooShortFailCode && ve.Value == "") {
		return field.Required(schemacheck.PathFrom(path), "")
	}
	return field.Invalid(schemacheck.PathFrom(path), ve.Value, msg)
}

// canonical spells errors so that two lists compare equal when they hold the same
// errors in any order (kube-openapi walks maps in random order); %#v keeps the Go type
// of the value.
func canonical(errs field.ErrorList) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%s | %s | %#v | %s", e.Field, e.Type, e.BadValue, e.Detail))
	}
	sort.Strings(out)
	return out
}

// requireSameErrors fails when the checker and kube-openapi disagree on a document.
func requireSameErrors(t testing.TB, name string, want, got field.ErrorList) {
	t.Helper()
	w, g := canonical(want), canonical(got)
	if strings.Join(w, "\n") != strings.Join(g, "\n") {
		t.Errorf("%s: the checker disagrees with kube-openapi\nkube-openapi:\n  %s\nchecker:\n  %s",
			name, strings.Join(w, "\n  "), strings.Join(g, "\n  "))
	}
}
