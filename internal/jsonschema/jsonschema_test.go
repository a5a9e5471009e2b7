package jsonschema

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

type level string

type inner struct {
	N int `json:"n"`
}

type embedded struct {
	E string `json:"e"`
}

type doc struct {
	embedded
	Name   string            `json:"name"`
	Opt    string            `json:"opt,omitempty"`
	When   time.Time         `json:"when,omitzero"`
	Ratio  float64           `json:"ratio"`
	Level  level             `json:"level"`
	Inner  *inner            `json:"inner"`
	Inners []inner           `json:"inners"`
	Labels map[string]string `json:"labels,omitempty"`
	Hidden string            `json:"-"`
	secret string
}

type custom struct{}

func (custom) MarshalJSON() ([]byte, error) { return []byte(`"x"`), nil }

func generate(t *testing.T) *Schema {
	t.Helper()
	g := Generator{Overrides: map[reflect.Type]*Schema{reflect.TypeFor[level](): {Type: Types{"string"}, Enum: []string{"low", "high"}}}}
	s, err := g.Generate(reflect.TypeFor[doc](), "doc/v1", "a test document")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The generator follows encoding/json: tags, omitempty and omitzero,
// embedded fields, "-", unexported fields, nil-able values as null.
func TestGenerate(t *testing.T) {
	s := generate(t)
	if got := strings.Join(s.Required, ","); got != "e,name,ratio,level,inner,inners" {
		t.Errorf("required %s", got)
	}
	for _, k := range []string{"Hidden", "secret", "embedded"} {
		if _, ok := s.Properties[k]; ok {
			t.Errorf("property %s", k)
		}
	}
	if s.Dialect != Draft || !s.AdditionalProperties.Forbidden || s.Properties["when"].Format != "date-time" ||
		s.Properties["level"].Enum[1] != "high" || len(s.Properties["inner"].AnyOf) != 2 ||
		!reflect.DeepEqual(s.Properties["inners"].Type, Types{"array", "null"}) || s.Defs["jsonschema.inner"] == nil ||
		s.Properties["labels"].AdditionalProperties.Schema.Type[0] != "string" {
		b, _ := Marshal(s)
		t.Errorf("schema:\n%s", b)
	}
	// What it writes, it reads back the same.
	b, _ := Marshal(s)
	var back Schema
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if b2, _ := Marshal(&back); string(b2) != string(b) {
		t.Errorf("round trip:\n%s\n%s", b, b2)
	}
	var g Generator
	if _, err := g.Generate(reflect.TypeFor[struct{ C custom }](), "", ""); err == nil || !strings.Contains(err.Error(), "Overrides") {
		t.Errorf("a type with its own MarshalJSON and no override: %v", err)
	}
}

// The validator checks each keyword it supports, and passes what
// encoding/json writes of the type.
func TestValidate(t *testing.T) {
	s := generate(t)
	good := doc{embedded: embedded{"e"}, Name: "n", Level: "low", When: time.Unix(0, 0).UTC(), Inners: []inner{{1}}}
	b, _ := json.Marshal(good)
	if err := Validate(s, b); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	for doc, want := range map[string]string{
		`{"e":"","name":"n","ratio":1.5,"level":"low","inner":null,"inners":null,"extra":1}`:        "/extra: key not in the schema",
		`{"e":"","name":"n","ratio":1,"level":"mid","inner":null,"inners":null}`:                    `/level: "mid", want one of low, high`,
		`{"e":"","name":"n","ratio":1,"level":"low","inner":{"n":1.5},"inners":null}`:               "/inner: matches none of anyOf",
		`{"e":"","name":"n","ratio":1,"level":"low","inner":null,"inners":[{"n":"1"}]}`:             "/inners/0/n: string, want integer",
		`{"e":"","name":"n","ratio":"1","level":"low","inner":null,"inners":null}`:                  "/ratio: string, want number",
		`{"name":"n","ratio":1,"level":"low","inner":null,"inners":null}`:                           `/: required key "e" missing`,
		`{"e":"","name":"n","ratio":1,"level":"low","inner":null,"inners":null,"when":"yesterday"}`: `/when: "yesterday" is not a date-time`,
		`{"e":"","name":"n","ratio":1,"level":"low","inner":null,"inners":null,"labels":{"a":1}}`:   "/labels/a: integer, want string",
	} {
		err := Validate(s, []byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", doc, err, want)
		}
	}
	names := &Schema{Type: Types{"object"}, PropertyNames: &Schema{Pattern: "^[a-z_]+$"}}
	if err := Validate(names, []byte(`{"ok":1,"Not OK":2}`)); err == nil || !strings.Contains(err.Error(), `"Not OK" does not match`) {
		t.Errorf("propertyNames: %v", err)
	}
}
