package wire

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// Go's encoding/json matches object keys to struct fields without regard to case, so on its own
// it would take {"Muted": true} for "muted" and {"TYPE": "join"} for a join. The contract's field
// names are exact (camelCase): a key spelled otherwise is an unknown field, ignored like any
// other, and a required field spelled only that way is missing (bad_request). exactFields
// enforces that before the request's fields are decoded.

// fieldTable maps the JSON names of a struct type's fields to their types.
var fieldTables sync.Map // reflect.Type -> map[string]reflect.Type

func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldTables.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	fieldTables.Store(t, m)
	return m
}

// structOf is the struct type t stands for (t itself or what it points to), or nil.
func structOf(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	return t
}

// exactFields returns the JSON object obj with only the keys that name a field of t exactly,
// in it and in the objects of its struct-typed fields, and whether it dropped any (other than
// "type" and "id", which every message has). Keys of maps are data and stay. A value that is not
// an object is kept as it is, for json.Unmarshal to judge.
func exactFields(obj map[string]json.RawMessage, t reflect.Type) (map[string]json.RawMessage, bool) {
	fields := fieldsOf(t)
	out := make(map[string]json.RawMessage, len(obj))
	dropped := false
	for k, v := range obj {
		ft, ok := fields[k]
		if !ok {
			dropped = dropped || (k != "type" && k != "id")
			continue
		}
		if st := structOf(ft); st != nil {
			var inner map[string]json.RawMessage
			if json.Unmarshal(v, &inner) == nil && inner != nil {
				if kept, innerDropped := exactFields(inner, st); innerDropped {
					if b, err := json.Marshal(kept); err == nil {
						v, dropped = b, true
					}
				}
			}
		}
		out[k] = v
	}
	return out, dropped
}

// exactJSON is data, an object already decoded into obj, with only the keys exactFields keeps:
// data itself when it has no others (the usual case, which costs no re-encoding).
func exactJSON(data []byte, obj map[string]json.RawMessage, t reflect.Type) ([]byte, error) {
	kept, dropped := exactFields(obj, t)
	if !dropped {
		return data, nil
	}
	return json.Marshal(kept)
}

// UnmarshalExact is json.Unmarshal into the struct v points to, with the contract's exact field
// names: keys spelled otherwise are ignored (the body of POST /api/meetings).
func UnmarshalExact(data []byte, v any) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return err
	}
	st := structOf(reflect.TypeOf(v))
	if obj == nil || st == nil {
		return json.Unmarshal(data, v)
	}
	b, err := exactJSON(data, obj, st)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
