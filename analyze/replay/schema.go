package replay

import (
	"reflect"

	"github.com/iorca/iorca/internal/jsonschema"
	"github.com/iorca/iorca/internal/table"
)

// JSONSchema is the JSON Schema of a replayed view (JSON), generated
// from Document. A block's rows differ by view: each is an object of
// snake_case keys to numbers or text.
func JSONSchema() (*jsonschema.Schema, error) {
	row := &jsonschema.Schema{
		Type:                 jsonschema.Types{"object"},
		PropertyNames:        &jsonschema.Schema{Pattern: "^[a-z][a-z0-9_]*$"},
		AdditionalProperties: &jsonschema.Additional{Schema: &jsonschema.Schema{Type: jsonschema.Types{"number", "string", "null"}}},
	}
	g := jsonschema.Generator{Overrides: map[reflect.Type]*jsonschema.Schema{
		reflect.TypeFor[table.Table](): {Type: jsonschema.Types{"array"}, Items: row},
	}}
	s, err := g.Generate(reflect.TypeFor[Document](), Schema, "The JSON of iorca replay --format json, generated from the Go types that write it.")
	if err != nil {
		return nil, err
	}
	s.Properties["schema"].Enum = []string{Schema}
	for _, v := range Views {
		s.Properties["view"].Enum = append(s.Properties["view"].Enum, v.Name)
	}
	return s, nil
}
