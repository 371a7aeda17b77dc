package yamlenc

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

// Encode turns v into a YAML node holding what json.Marshal(v) would write: field
// names and omitempty/omitzero from json tags, embedded structs inlined, json.Marshaler
// and encoding.TextMarshaler honoured as encoding/json reaches them, []byte as base64.
// Mapping keys come in keyRank order (see MappingNode). It walks the values that are
// set instead of every type that could be; FuzzEncode holds it to json.Marshal.
func Encode(v any) (*yaml.Node, error) {
	return encodeValue(reflect.ValueOf(v))
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
		return StringNode(v.String()), nil
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
			return StringNode(base64.StdEncoding.EncodeToString(v.Bytes())), nil
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

// methods says which of the methods encoding/json looks for a type has, and through
// which receiver: the value's own method set, or its address's (which encoding/json
// uses only when the value is addressable).
type methods uint8

const (
	jsonByValue methods = 1 << iota // T (or the pointer or interface type T) has MarshalJSON
	jsonByAddr                      // *T has MarshalJSON (also when T has it)
	textByValue                     // T has MarshalText
	textByAddr                      // *T has MarshalText (also when T has it)
	zeroByValue                     // T has IsZero() bool (omitzero)
	zeroByAddr                      // *T has IsZero() bool

	marshals = jsonByValue | jsonByAddr | textByValue | textByAddr
)

var methodCache sync.Map // reflect.Type → methods

// methodsOf caches reflect's Implements, which costs more than the encoding itself.
func methodsOf(t reflect.Type) methods {
	if m, ok := methodCache.Load(t); ok {
		return m.(methods)
	}
	var m methods
	for _, c := range []struct {
		iface         reflect.Type
		value, byAddr methods
	}{{jsonMarshaler, jsonByValue, jsonByAddr}, {textMarshaler, textByValue, textByAddr}, {zeroChecker, zeroByValue, zeroByAddr}} {
		if t.Implements(c.iface) {
			m |= c.value
		}
		if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(c.iface) {
			m |= c.byAddr
		}
	}
	methodCache.Store(t, m)
	return m
}

// encodeMarshaler encodes v with its own MarshalJSON or MarshalText, in encoding/json's
// order of preference (newTypeEncoder): MarshalJSON through the address of an
// addressable value, MarshalJSON of the value, then the same two for MarshalText. So a
// type with a pointer-receiver MarshalJSON and a value-receiver MarshalText is written
// by MarshalJSON where it is addressable (a struct field reached through a pointer, a
// slice element) and by MarshalText where it is not (a map value, a value in an interface).
func encodeMarshaler(v reflect.Value) (*yaml.Node, bool, error) {
	t := v.Type()
	ms := methodsOf(t)
	if ms&marshals == 0 {
		return nil, false, nil
	}
	addr := v.CanAddr()
	switch {
	case ms&jsonByAddr != 0 && addr:
		return marshalJSON(t, v.Addr())
	case ms&jsonByValue != 0:
		if isNil(v) {
			return nullNode(), true, nil
		}
		return marshalJSON(t, v)
	case ms&textByAddr != 0 && addr:
		return marshalText(t, v.Addr())
	case ms&textByValue != 0:
		if isNil(v) {
			return nullNode(), true, nil
		}
		return marshalText(t, v)
	}
	return nil, false, nil // only *T marshals and v is not addressable: encoded by its kind
}

func isNil(v reflect.Value) bool {
	return (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil()
}

func marshalJSON(t reflect.Type, m reflect.Value) (*yaml.Node, bool, error) {
	raw, err := m.Interface().(json.Marshaler).MarshalJSON()
	if err != nil {
		return nil, true, fmt.Errorf("%s.MarshalJSON: %w", t, err)
	}
	n, err := jsonNode(raw)
	if err != nil {
		return nil, true, fmt.Errorf("%s.MarshalJSON: %w", t, err)
	}
	return n, true, nil
}

func marshalText(t reflect.Type, m reflect.Value) (*yaml.Node, bool, error) {
	text, err := m.Interface().(encoding.TextMarshaler).MarshalText()
	if err != nil {
		return nil, true, fmt.Errorf("%s.MarshalText: %w", t, err)
	}
	return StringNode(string(text)), true, nil
}

// isByteSlice: encoding/json writes []byte as base64 unless its elements marshal themselves.
func isByteSlice(t reflect.Type) bool {
	return t.Elem().Kind() == reflect.Uint8 && methodsOf(t.Elem())&marshals == 0
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
		return StringNode(strconv.FormatBool(v.Bool())), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return StringNode(strconv.FormatInt(v.Int(), 10)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return StringNode(strconv.FormatUint(v.Uint(), 10)), nil
	case reflect.String, reflect.Float32, reflect.Float64:
		raw, err := json.Marshal(v.Interface())
		return StringNode(string(raw)), err
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

// isZeroValue is the omitzero test: the type's own IsZero if it has one (never called
// on a nil pointer or interface), else the Go zero value.
func isZeroValue(v reflect.Value) bool {
	ms := methodsOf(v.Type())
	switch {
	case ms&zeroByValue != 0:
		if isNil(v) || v.Kind() == reflect.Interface && isNil(v.Elem()) {
			return true
		}
		return v.Interface().(interface{ IsZero() bool }).IsZero()
	case ms&zeroByAddr != 0:
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
