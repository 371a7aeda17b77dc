package config

import "reflect"

// Canonical is the spec of a defaulted config with every spelled-out default folded
// back to "unset", so two configs that render the same objects have the same
// canonical spec. The config digest is taken over it: writing `createNamespace: true`,
// `networkPolicy: {enabled: false}` or a name at its default must not make a render
// look stale. Default fills the defaults it can hold in a field; these are the ones
// it cannot (a nil pointer or an empty name means "derive it"), so they are folded
// here instead. The receiver is not changed.
func (a *AggregatedAPI) Canonical() AggregatedAPISpec {
	s := a.Spec
	if s.CreateNamespace != nil && *s.CreateNamespace {
		s.CreateNamespace = nil
	}
	if np := s.NetworkPolicy; np != nil && !np.Enabled {
		// A disabled NetworkPolicy emits nothing: what else it holds changes no object.
		s.NetworkPolicy = nil
	}
	if s.Names != nil {
		s.Names = a.namesWithoutDefaults()
	}
	a.foldWorkloadDefaults(&s)
	return s
}

// namesWithoutDefaults is spec.names with every name cleared that ObjectNames would
// derive anyway. A name is cleared when clearing it leaves every derived name as it
// was; each step keeps them all, so the order of the fields does not matter.
func (a *AggregatedAPI) namesWithoutDefaults() *ObjectNames {
	o := *a.Spec.Names
	probe := *a
	probe.Spec.Names = &o
	want := a.ObjectNames()
	v := reflect.ValueOf(&o).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() != reflect.String || f.String() == "" {
			continue
		}
		kept := f.String()
		f.SetString("")
		if probe.ObjectNames() != want {
			f.SetString(kept)
		}
	}
	if o == (ObjectNames{}) {
		return nil
	}
	return &o
}
