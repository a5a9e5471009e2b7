package jsonschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Validate checks the JSON document doc against root, a schema of the
// subset this package writes (type, enum, pattern, format date-time,
// properties, required, additionalProperties, propertyNames, items,
// anyOf, $ref into root's $defs). It returns every violation, each
// with its JSON Pointer.
func Validate(root *Schema, doc []byte) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	c := checker{root: root}
	c.check(root, v, "")
	return errors.Join(c.errs...)
}

type checker struct {
	root *Schema
	errs []error
}

func (c *checker) fail(at, format string, args ...any) {
	if at == "" {
		at = "/"
	}
	c.errs = append(c.errs, fmt.Errorf("%s: %s", at, fmt.Sprintf(format, args...)))
}

func (c *checker) check(s *Schema, v any, at string) {
	if s.Ref != "" {
		d, ok := c.root.Defs[strings.TrimPrefix(s.Ref, "#/$defs/")]
		if !ok {
			c.fail(at, "unknown $ref %s", s.Ref)
			return
		}
		c.check(d, v, at)
	}
	if len(s.AnyOf) > 0 && !c.anyOf(s.AnyOf, v, at) {
		return
	}
	if len(s.Type) > 0 && !slices.Contains(s.Type, typeOf(v)) && !(typeOf(v) == "integer" && slices.Contains(s.Type, "number")) {
		c.fail(at, "%s, want %s", typeOf(v), strings.Join(s.Type, " or "))
		return
	}
	switch x := v.(type) {
	case string:
		c.checkString(s, x, at)
	case map[string]any:
		c.checkObject(s, x, at)
	case []any:
		if s.Items != nil {
			for i, e := range x {
				c.check(s.Items, e, fmt.Sprintf("%s/%d", at, i))
			}
		}
	}
}

// anyOf reports whether v matches one of the schemas, and says so when not.
func (c *checker) anyOf(ss []*Schema, v any, at string) bool {
	for _, s := range ss {
		sub := checker{root: c.root}
		sub.check(s, v, at)
		if len(sub.errs) == 0 {
			return true
		}
	}
	c.fail(at, "matches none of anyOf")
	return false
}

func (c *checker) checkString(s *Schema, x, at string) {
	if len(s.Enum) > 0 && !slices.Contains(s.Enum, x) {
		c.fail(at, "%q, want one of %s", x, strings.Join(s.Enum, ", "))
	}
	if s.Pattern != "" {
		if re, err := regexp.Compile(s.Pattern); err != nil {
			c.fail(at, "pattern %q: %v", s.Pattern, err)
		} else if !re.MatchString(x) {
			c.fail(at, "%q does not match %s", x, s.Pattern)
		}
	}
	if s.Format == "date-time" {
		if _, err := time.Parse(time.RFC3339Nano, x); err != nil {
			c.fail(at, "%q is not a date-time", x)
		}
	}
}

func (c *checker) checkObject(s *Schema, x map[string]any, at string) {
	for _, r := range s.Required {
		if _, ok := x[r]; !ok {
			c.fail(at, "required key %q missing", r)
		}
	}
	keys := make([]string, 0, len(x))
	for k := range x {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		here := at + "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
		if s.PropertyNames != nil {
			c.checkString(s.PropertyNames, k, here)
		}
		if p, ok := s.Properties[k]; ok {
			c.check(p, x[k], here)
			continue
		}
		switch a := s.AdditionalProperties; {
		case a == nil:
		case a.Forbidden:
			c.fail(here, "key not in the schema")
		case a.Schema != nil:
			c.check(a.Schema, x[k], here)
		}
	}
}

// typeOf is the JSON Schema type of a decoded value; a number without a
// fraction or exponent is an integer.
func typeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			return "number"
		}
		return "integer"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
