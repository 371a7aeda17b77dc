package render

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// encodeObject turns a typed Kubernetes object into a YAML node with encoding/json's
// rules (field names and omitempty/omitzero from json tags, embedded structs inlined,
// json.Marshaler and encoding.TextMarshaler honoured, []byte as base64), walking the
// values that are set instead of every type that could be: TestEncodeMatchesJSON
// holds it to json.Marshal.
func encodeObject(obj any) (*yaml.Node, error) {
	return encodeValue(reflect.ValueOf(obj))
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	zeroChecker   = reflect.TypeFor[interface{ IsZero() bool }]()
)

func encodeValue(v reflect.Value) (*yaml.Node, error) {
	if !v.IsValid() {
		return nullNode(), nil
	}
	if n, ok, err := encodeMarshaler(v); ok {
		return n, err
	}
	switch v.Kind() {
	case reflect.Bool:
		return boolNode(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return numberNode(strconv.FormatInt(v.Int(), 10)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return numberNode(strconv.FormatUint(v.Uint(), 10)), nil
	case reflect.Float32, reflect.Float64:
		raw, err := json.Marshal(v.Interface()) // encoding/json's float spelling; no type graph
		if err != nil {
			return nil, err
		}
		return numberNode(string(raw)), nil
	case reflect.String:
		return stringNode(v.String()), nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nullNode(), nil
		}
		return encodeValue(v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return nullNode(), nil
		}
		if isByteSlice(v.Type()) {
			return stringNode(base64.StdEncoding.EncodeToString(v.Bytes())), nil
		}
		return encodeSequence(v)
	case reflect.Array:
		return encodeSequence(v)
	case reflect.Map:
		if v.IsNil() {
			return nullNode(), nil
		}
		return encodeMap(v)
	case reflect.Struct:
		return encodeStruct(v)
	}
	return nil, fmt.Errorf("cannot encode a value of type %s", v.Type())
}

// receiver says whether a type has a method set (here: marshalling, IsZero) and how
// encoding/json reaches it.
type receiver uint8

const (
	noMethods      receiver = iota
	valueMethods            // the type's own methods (value receivers, or the type is a pointer)
	pointerMethods          // only *T has them: used when the value is addressable
)

var (
	marshalers   sync.Map // reflect.Type → receiver of json.Marshaler or encoding.TextMarshaler
	zeroCheckers sync.Map // reflect.Type → receiver of IsZero() bool
)

// marshalerOf and zeroCheckerOf cache reflect's Implements, which costs more than the
// encoding itself.
func marshalerOf(t reflect.Type) receiver {
	return receiverOf(&marshalers, t, jsonMarshaler, textMarshaler)
}

func zeroCheckerOf(t reflect.Type) receiver { return receiverOf(&zeroCheckers, t, zeroChecker) }

// receiverOf says how t implements any of ifaces, remembering the answer in cache.
func receiverOf(cache *sync.Map, t reflect.Type, ifaces ...reflect.Type) receiver {
	if r, ok := cache.Load(t); ok {
		return r.(receiver)
	}
	r := noMethods
	for _, iface := range ifaces {
		switch {
		case t.Implements(iface):
			r = valueMethods
		case r == noMethods && t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(iface):
			r = pointerMethods
		}
		if r == valueMethods {
			break
		}
	}
	cache.Store(t, r)
	return r
}

// encodeMarshaler encodes v with its own MarshalJSON or MarshalText, as encoding/json
// does: value receivers always, pointer receivers when v is addressable.
func encodeMarshaler(v reflect.Value) (*yaml.Node, bool, error) {
	t := v.Type()
	m := v
	switch marshalerOf(t) {
	case valueMethods:
	case pointerMethods:
		if !v.CanAddr() {
			return nil, false, nil
		}
		m = v.Addr()
	default:
		return nil, false, nil
	}
	if m.Kind() == reflect.Pointer && m.IsNil() || m.Kind() == reflect.Interface && m.IsNil() {
		return nullNode(), true, nil
	}
	if jm, ok := m.Interface().(json.Marshaler); ok {
		raw, err := jm.MarshalJSON()
		if err != nil {
			return nil, true, fmt.Errorf("%s.MarshalJSON: %w", t, err)
		}
		n, err := jsonNode(raw)
		return n, true, err
	}
	text, err := m.Interface().(encoding.TextMarshaler).MarshalText()
	if err != nil {
		return nil, true, fmt.Errorf("%s.MarshalText: %w", t, err)
	}
	return stringNode(string(text)), true, nil
}

// isByteSlice: encoding/json writes []byte as base64 unless its elements marshal themselves.
func isByteSlice(t reflect.Type) bool {
	return t.Elem().Kind() == reflect.Uint8 && marshalerOf(t.Elem()) == noMethods
}

func encodeSequence(v reflect.Value) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq, Content: make([]*yaml.Node, 0, v.Len())}
	for i := range v.Len() {
		e, err := encodeValue(v.Index(i))
		if err != nil {
			return nil, err
		}
		n.Content = append(n.Content, e)
	}
	return n, nil
}

func encodeMap(v reflect.Value) (*yaml.Node, error) {
	pairs := make([]keyValue, 0, v.Len())
	iter := v.MapRange()
	for iter.Next() {
		k, err := mapKey(iter.Key())
		if err != nil {
			return nil, err
		}
		e, err := encodeValue(iter.Value())
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, keyValue{k, e})
	}
	return mappingNode(pairs), nil
}

// mapKey spells a map key as encoding/json does.
func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return "", nil
		}
		b, err := tm.MarshalText()
		return string(b), err
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", fmt.Errorf("cannot encode a map key of type %s", k.Type())
}

func encodeStruct(v reflect.Value) (*yaml.Node, error) {
	fields := fieldsOf(v.Type())
	pairs := make([]keyValue, 0, len(fields))
	for _, f := range fields {
		fv, ok := fieldByIndex(v, f.index)
		if !ok || f.omitEmpty && isEmptyValue(fv) || f.omitZero && isZeroValue(fv) {
			continue
		}
		var n *yaml.Node
		var err error
		if f.quoted {
			n, err = quotedValue(fv)
		} else {
			n, err = encodeValue(fv)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		pairs = append(pairs, keyValue{f.name, n})
	}
	return mappingNode(pairs), nil
}

// fieldByIndex is v.FieldByIndex that reports a nil embedded pointer instead of panicking:
// encoding/json skips the fields it would promote.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

// quotedValue is the json ",string" option: a scalar written as a JSON string.
func quotedValue(v reflect.Value) (*yaml.Node, error) {
	switch v.Kind() {
	case reflect.Bool:
		return stringNode(strconv.FormatBool(v.Bool())), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return stringNode(strconv.FormatInt(v.Int(), 10)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return stringNode(strconv.FormatUint(v.Uint(), 10)), nil
	case reflect.String, reflect.Float32, reflect.Float64:
		raw, err := json.Marshal(v.Interface())
		return stringNode(string(raw)), err
	}
	return encodeValue(v)
}

func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// isZeroValue is the omitzero test: the type's own IsZero if it has one, else the Go zero value.
func isZeroValue(v reflect.Value) bool {
	switch zeroCheckerOf(v.Type()) {
	case valueMethods:
		if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
			return true
		}
		return v.Interface().(interface{ IsZero() bool }).IsZero()
	case pointerMethods:
		if !v.CanAddr() { // as encoding/json: call it on an addressable copy
			c := reflect.New(v.Type()).Elem()
			c.Set(v)
			v = c
		}
		return v.Addr().Interface().(interface{ IsZero() bool }).IsZero()
	}
	return v.IsZero()
}

type fieldInfo struct {
	name                string
	index               []int
	omitEmpty, omitZero bool
	quoted              bool
	tagged              bool // named by its json tag: wins a tie of depth
}

var fieldCache sync.Map // reflect.Type → []fieldInfo

// fieldsOf lists the JSON fields of a struct type in encoding/json's order: declaration
// order, embedded structs' fields in place, and of two fields with one name the
// shallower (or the only tagged one at that depth) wins.
func fieldsOf(t reflect.Type) []fieldInfo {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]fieldInfo)
	}
	c := fieldCollector{indexes: make([]int, 0, 2*t.NumField())}
	c.collect(t, nil)
	out := c.fields
	if c.promoted {
		out = dominantFields(c.fields)
	}
	out = slices.Clip(out)
	fieldCache.Store(t, out)
	return out
}

// dominantFields resolves duplicate names like encoding/json: the shortest index wins;
// a tie between several fields at that depth drops the name unless exactly one is tagged.
func dominantFields(all []fieldInfo) []fieldInfo {
	byName := map[string][]int{}
	for i, f := range all {
		byName[f.name] = append(byName[f.name], i)
	}
	var out []fieldInfo
	for i, f := range all {
		if idx := byName[f.name]; len(idx) == 1 || dominant(all, idx) == i {
			out = append(out, f)
		}
	}
	return out
}

// fieldCollector gathers a struct type's fields; their index paths share one backing
// array, since the cache keeps them for the life of the process.
type fieldCollector struct {
	fields   []fieldInfo
	indexes  []int
	promoted bool // some field comes from an embedded struct: names may clash
}

func (c *fieldCollector) index(prefix []int, i int) []int {
	start := len(c.indexes)
	c.indexes = append(append(c.indexes, prefix...), i)
	return c.indexes[start:len(c.indexes):len(c.indexes)]
}

// collect appends the fields of t, with index prefixed by prefix.
func (c *fieldCollector) collect(t reflect.Type, prefix []int) {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := sf.Type
		if sf.Anonymous {
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if !sf.IsExported() && ft.Kind() != reflect.Struct {
				continue
			}
			if name == "" && ft.Kind() == reflect.Struct {
				c.promoted = true
				c.collect(ft, c.index(prefix, i))
				continue
			}
		} else if !sf.IsExported() {
			continue
		}
		f := fieldInfo{name: name, index: c.index(prefix, i), tagged: name != ""}
		if name == "" {
			f.name = sf.Name
		}
		for o := range strings.SplitSeq(opts, ",") {
			switch o {
			case "omitempty":
				f.omitEmpty = true
			case "omitzero":
				f.omitZero = true
			case "string":
				switch sf.Type.Kind() {
				case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
					reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
					reflect.Float32, reflect.Float64, reflect.String:
					f.quoted = true
				}
			}
		}
		c.fields = append(c.fields, f)
	}
}

// dominant returns which of the fields at positions idx (all with one name) encoding/json
// keeps, or -1 when it drops them all: the shallowest, or the one tagged among the shallowest.
func dominant(all []fieldInfo, idx []int) int {
	depth := 1 << 30
	for _, i := range idx {
		depth = min(depth, len(all[i].index))
	}
	var shallow, tagged []int
	for _, i := range idx {
		if len(all[i].index) == depth {
			shallow = append(shallow, i)
			if all[i].tagged {
				tagged = append(tagged, i)
			}
		}
	}
	switch {
	case len(shallow) == 1:
		return shallow[0]
	case len(tagged) == 1:
		return tagged[0]
	}
	return -1
}
