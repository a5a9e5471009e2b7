package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/replay"
	"github.com/iorca/iorca/internal/golden"
	"github.com/iorca/iorca/internal/jsonschema"
	"github.com/iorca/iorca/report"
)

const schemaDir = "../../../docs/schema"

// generatedSchemas are the JSON Schemas of every JSON document iorca
// writes, by file name under docs/schema.
func generatedSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	all, err := report.JSONSchemas()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := replay.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	all["replay.schema.json"] = rs
	return all
}

// The committed schemas are the ones the Go types generate: a field
// added to a document without regenerating them fails here (go test
// -update rewrites them).
func TestJSONSchemasAreCommitted(t *testing.T) {
	for name, s := range generatedSchemas(t) {
		b, err := jsonschema.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(schemaDir, name)
		if golden.Update(t) {
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		have, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(have, b) {
			t.Errorf("%s is not what the Go types generate (go test ./analyze/cmd/iorca -run TestJSONSchemas -update rewrites it): %v", path, err)
		}
	}
}

// committedSchema reads a schema from docs/schema, as a user's validator
// would.
func committedSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(schemaDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &s
}

// validate runs iorca with args and checks its output against the
// committed schema.
func validateOutput(t *testing.T, s *jsonschema.Schema, args ...string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != exitOK {
		t.Fatalf("iorca %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	if err := jsonschema.Validate(s, out.Bytes()); err != nil {
		t.Errorf("iorca %s: %v", strings.Join(args, " "), err)
	}
}

// Every sample's JSON report, the fleet review and comparisons of the
// samples, and every replay view of them hold to the committed schemas.
func TestSampleJSONHoldsToTheSchemas(t *testing.T) {
	reports, _ := filepath.Glob(filepath.Join(samplesDir, "*.json"))
	bundles, _ := filepath.Glob(filepath.Join(samplesDir, "*.tar.zst"))
	if len(reports) == 0 || len(bundles) < 2 {
		t.Fatalf("samples: %d reports, %d bundles", len(reports), len(bundles))
	}
	rs := committedSchema(t, "report.schema.json")
	for _, r := range reports {
		b, err := os.ReadFile(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := jsonschema.Validate(rs, b); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
	validateOutput(t, committedSchema(t, "fleet.schema.json"), append([]string{"fleet", "--format", "json", "--by", "zone"}, reports...)...)
	ds := committedSchema(t, "diff.schema.json")
	validateOutput(t, ds, "diff", "--format", "json", filepath.Join(samplesDir, "overlay-sync-logger.tar.zst"), filepath.Join(samplesDir, "overlay-sync-logger-tmpfs.tar.zst"))
	validateOutput(t, ds, "diff", "--format", "json", filepath.Join(samplesDir, "idle.tar.zst"), filepath.Join(samplesDir, "failing-disk.tar.zst"))

	ps := committedSchema(t, "replay.schema.json")
	validateOutput(t, ps, "replay", bundles[0], "iostat", "--format", "json")
	for _, b := range bundles {
		validateReplay(t, ps, sampletest.Load(t, b), filepath.Base(b))
	}
}

// validateReplay checks every view of one bundle, written as iorca
// replay --format json writes it, against the schema.
func validateReplay(t *testing.T, s *jsonschema.Schema, m *model.Model, name string) {
	t.Helper()
	for _, v := range replay.Views {
		for _, o := range []replay.Options{{Tick: -1}, {Tick: -1, Summary: true, Rate: true}} {
			if len(m.Targets) > 0 {
				o.PID = m.Targets[0].Info.PID
			}
			d, err := v.Document(m, o)
			if err != nil {
				continue // a view the bundle cannot give (no targets, no block trace): an error, no JSON
			}
			var out bytes.Buffer
			if err := replay.JSON(&out, d); err != nil {
				t.Fatal(err)
			}
			if err := jsonschema.Validate(s, out.Bytes()); err != nil {
				t.Errorf("%s replay %s: %v", name, v.Name, err)
			}
		}
	}
}

// A document that breaks the schema is caught: a key too many, a wrong
// type, a severity out of the set, a missing required key.
func TestSchemaValidatorCatchesBreaks(t *testing.T) {
	rs := committedSchema(t, "report.schema.json")
	good, err := os.ReadFile(filepath.Join(samplesDir, "fsync-storm.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(map[string]any){
		"extra key":    func(r map[string]any) { r["Host"] = "x" },
		"wrong type":   func(r map[string]any) { r["partial"] = "no" },
		"severity":     func(r map[string]any) { r["findings"].([]any)[0].(map[string]any)["severity"] = "severe" },
		"missing":      func(r map[string]any) { delete(r, "verdict") },
		"other schema": func(r map[string]any) { r["schema"] = "iorca.report/v2" },
	} {
		var r map[string]any
		if err := json.Unmarshal(good, &r); err != nil {
			t.Fatal(err)
		}
		edit(r)
		b, _ := json.Marshal(r)
		if err := jsonschema.Validate(rs, b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
