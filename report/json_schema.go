package report

import (
	"reflect"

	"github.com/iorca/iorca/internal/jsonschema"
	"github.com/iorca/iorca/report/content"
)

// contentOverrides are the schemas of the content types that write their
// own JSON, and of the named strings with a fixed set of values.
func contentOverrides() map[reflect.Type]*jsonschema.Schema {
	str := jsonschema.Types{"string"}
	var horizons []string
	for _, h := range content.Horizons {
		horizons = append(horizons, string(h))
	}
	return map[reflect.Type]*jsonschema.Schema{
		reflect.TypeFor[content.Severity]():   {Type: str, Enum: []string{content.Info.String(), content.Warning.String(), content.Critical.String()}},
		reflect.TypeFor[content.Confidence](): {Type: str, Enum: []string{content.Low.String(), content.Medium.String(), content.High.String()}},
		reflect.TypeFor[content.Horizon]():    {Type: str, Enum: horizons},
		// A line is written as its plain text.
		reflect.TypeFor[content.Line](): {Type: str},
	}
}

// JSONSchemas are the JSON Schemas of the documents this package writes,
// by file name under docs/schema: the report (JSON), the fleet review
// (FleetJSON) and the comparison (ComparisonJSON), generated from the
// types that write them. Each document's "schema" field is held to its
// one value.
func JSONSchemas() (map[string]*jsonschema.Schema, error) {
	docs := []struct {
		file, name, about string
		t                 reflect.Type
	}{
		{"report.schema.json", content.ReportSchema, "iorca report --format json", reflect.TypeFor[jsonReport]()},
		{"fleet.schema.json", content.FleetSchema, "iorca fleet --format json", reflect.TypeFor[content.Fleet]()},
		{"diff.schema.json", content.ComparisonSchema, "iorca diff --format json", reflect.TypeFor[content.Comparison]()},
	}
	out := map[string]*jsonschema.Schema{}
	for _, d := range docs {
		g := jsonschema.Generator{Overrides: contentOverrides()}
		s, err := g.Generate(d.t, d.name, "The JSON of "+d.about+", generated from the Go types that write it.")
		if err != nil {
			return nil, err
		}
		s.Properties["schema"].Enum = []string{d.name}
		if n, ok := s.Defs["content.FleetNode"]; ok {
			// A fleet's node sums up a report.
			n.Properties["schema"].Enum = []string{content.ReportSchema}
		}
		out[d.file] = s
	}
	return out, nil
}
