package jsonschema

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Generator builds a schema from a Go type as encoding/json writes it:
// struct fields by their json tags (no additional keys), a field without
// omitempty or omitzero required, a pointer, slice or map that may be
// nil also null. Named structs go under $defs, keyed "package.Type".
type Generator struct {
	// Overrides give the schema of types that write their own JSON
	// (MarshalJSON), and of named strings with a fixed set of values.
	// A type with its own MarshalJSON and no override is an error: the
	// generator will not guess what it writes.
	Overrides map[reflect.Type]*Schema
	defs      map[string]*Schema
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	textType      = reflect.TypeFor[encoding.TextMarshaler]()
)

// Generate returns the schema of documents of type t, titled title.
func (g *Generator) Generate(t reflect.Type, title, description string) (*Schema, error) {
	g.defs = map[string]*Schema{}
	root, err := g.of(t)
	if err != nil {
		return nil, err
	}
	if root.Ref != "" {
		// The document's own type is the root, not a reference to it.
		name := strings.TrimPrefix(root.Ref, "#/$defs/")
		root = g.defs[name]
		delete(g.defs, name)
	}
	root.Dialect, root.Title, root.Description = Draft, title, description
	if len(g.defs) > 0 {
		root.Defs = g.defs
	}
	return root, nil
}

// of is the schema of a value of type t.
func (g *Generator) of(t reflect.Type) (*Schema, error) {
	if s, ok := g.Overrides[t]; ok {
		return clone(s), nil
	}
	if t == timeType {
		return &Schema{Type: Types{"string"}, Format: "date-time"}, nil
	}
	if t.Kind() != reflect.Pointer && (t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType) || t.Implements(textType)) {
		return nil, fmt.Errorf("%s writes its own JSON: give its schema in Overrides", t)
	}
	switch t.Kind() {
	case reflect.Bool:
		return &Schema{Type: Types{"boolean"}}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &Schema{Type: Types{"integer"}}, nil
	case reflect.Float32, reflect.Float64:
		return &Schema{Type: Types{"number"}}, nil
	case reflect.String:
		return &Schema{Type: Types{"string"}}, nil
	case reflect.Interface:
		return &Schema{}, nil
	case reflect.Pointer:
		return g.of(t.Elem())
	case reflect.Slice, reflect.Array:
		items, err := g.of(t.Elem())
		if err != nil {
			return nil, err
		}
		return &Schema{Type: Types{"array"}, Items: items}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("%s: map keys must be strings", t)
		}
		v, err := g.of(t.Elem())
		if err != nil {
			return nil, err
		}
		return &Schema{Type: Types{"object"}, AdditionalProperties: &Additional{Schema: v}}, nil
	case reflect.Struct:
		return g.structRef(t)
	}
	return nil, fmt.Errorf("%s: no JSON Schema for kind %s", t, t.Kind())
}

// structRef puts a named struct under $defs and refers to it; an
// anonymous struct is written in place.
func (g *Generator) structRef(t reflect.Type) (*Schema, error) {
	if t.Name() == "" {
		return g.object(t)
	}
	name := t.String()
	if _, ok := g.defs[name]; !ok {
		g.defs[name] = &Schema{} // a placeholder, so that a recursive type ends
		s, err := g.object(t)
		if err != nil {
			return nil, err
		}
		g.defs[name] = s
	}
	return &Schema{Ref: "#/$defs/" + name}, nil
}

// object is a struct's schema: its fields as encoding/json writes them.
func (g *Generator) object(t reflect.Type) (*Schema, error) {
	s := &Schema{Type: Types{"object"}, Properties: map[string]*Schema{}, AdditionalProperties: &Additional{Forbidden: true}}
	if err := g.fields(t, s); err != nil {
		return nil, err
	}
	return s, nil
}

// fields adds t's fields to s, those of embedded structs too.
func (g *Generator) fields(t reflect.Type, s *Schema) error {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			if err := g.fields(f.Type, s); err != nil {
				return err
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		fs, err := g.of(f.Type)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", t, f.Name, err)
		}
		optional := strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
		switch f.Type.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
			if !optional {
				fs = nullable(fs)
			}
		}
		s.Properties[name] = fs
		if !optional {
			s.Required = append(s.Required, name)
		}
	}
	return nil
}

// nullable lets a value also be null.
func nullable(s *Schema) *Schema {
	if s.Ref != "" {
		// Beside $ref a type would be one more condition, not an
		// alternative.
		return &Schema{AnyOf: []*Schema{s, {Type: Types{"null"}}}}
	}
	if len(s.Type) == 0 {
		return s // any value, null included
	}
	s.Type = append(s.Type, "null")
	return s
}

func clone(s *Schema) *Schema {
	c := *s
	c.Type = append(Types(nil), s.Type...)
	return &c
}
