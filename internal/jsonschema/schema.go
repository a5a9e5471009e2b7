package jsonschema

import (
	"encoding/json"
	"fmt"
)

// Draft is the dialect every generated schema declares.
const Draft = "https://json-schema.org/draft/2020-12/schema"

// Schema is the subset of JSON Schema 2020-12 that the generator writes
// and the validator checks.
type Schema struct {
	Dialect     string `json:"$schema,omitempty"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Ref         string `json:"$ref,omitempty"`
	// AnyOf is used for one thing: a reference that may also be null.
	AnyOf []*Schema `json:"anyOf,omitempty"`
	Type  Types     `json:"type,omitempty"`
	// Format is an annotation ("date-time"); the validator checks
	// date-time only.
	Format               string             `json:"format,omitempty"`
	Enum                 []string           `json:"enum,omitempty"`
	Pattern              string             `json:"pattern,omitempty"`
	Properties           map[string]*Schema `json:"properties,omitempty"`
	Required             []string           `json:"required,omitempty"`
	AdditionalProperties *Additional        `json:"additionalProperties,omitempty"`
	PropertyNames        *Schema            `json:"propertyNames,omitempty"`
	Items                *Schema            `json:"items,omitempty"`
	Defs                 map[string]*Schema `json:"$defs,omitempty"`
}

// Types is the "type" keyword: one name, or several (a Go pointer,
// slice or map without omitempty may be null).
type Types []string

// MarshalJSON writes one type as a string, several as an array.
func (t Types) MarshalJSON() ([]byte, error) {
	if len(t) == 1 {
		return json.Marshal(t[0])
	}
	return json.Marshal([]string(t))
}

// UnmarshalJSON reads a string or an array of strings.
func (t *Types) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*t = Types{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("type: want a string or an array of strings: %w", err)
	}
	*t = many
	return nil
}

// Additional is "additionalProperties": false (a struct: no key but its
// fields), or the schema of every other key's value (a map).
type Additional struct {
	// Forbidden writes false.
	Forbidden bool
	Schema    *Schema
}

// MarshalJSON writes false or the schema.
func (a Additional) MarshalJSON() ([]byte, error) {
	if a.Forbidden {
		return []byte("false"), nil
	}
	return json.Marshal(a.Schema)
}

// UnmarshalJSON reads false, true or a schema.
func (a *Additional) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "false":
		*a = Additional{Forbidden: true}
		return nil
	case "true":
		*a = Additional{Schema: &Schema{}}
		return nil
	}
	a.Schema = &Schema{}
	return json.Unmarshal(b, a.Schema)
}

// Marshal writes a schema as the committed files hold it: indented,
// keys sorted, a final newline.
func Marshal(s *Schema) ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
