// Package jsonschema generates JSON Schemas (draft 2020-12) from the Go
// types that write iorca's JSON documents, and validates documents
// against the subset of the vocabulary it generates.
package jsonschema
