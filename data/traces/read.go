// Package traces reads the trace exports of LLM observability tools — Langfuse (traces with their
// observations and scores: the UI's table export, a trace's "Download JSON", the public API's objects) and
// LangSmith (runs as `client.list_runs` returns them, or one run with its child_runs) — and turns each trace
// into a (query, positive passage) training pair: the user's question, the passages the retriever returned in
// rank order, the answer and the user's feedback. It owns the two formats and the choice of the positive; it
// does not write files (package datasets does) nor call either tool's API.
package traces

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Format names the tool that wrote an export.
type Format string

// The formats: Auto tells them apart record by record (a LangSmith run has run_type, inputs or outputs; a
// Langfuse trace has observations or scores, an observation a type and a traceId, a score a name and a value).
const (
	Auto      Format = "auto"
	Langfuse  Format = "langfuse"
	LangSmith Format = "langsmith"
)

// ParseFormat checks a format name ("" is Auto).
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "", Auto:
		return Auto, nil
	case Langfuse, LangSmith:
		return f, nil
	}
	return "", fmt.Errorf("unknown trace format %q (want langfuse, langsmith or auto)", s)
}

// Trace is one user request as the tool recorded it.
type Trace struct {
	// Tool is the format it was read from (Langfuse or LangSmith); ID the trace's id there.
	Tool Format
	ID   string
	// Source is where it was read: "file line N" (the line of the trace's first record).
	Source string
	// Question is the user's question: the trace's (root run's) input, else the retriever's query.
	Question string
	// Documents are the first retriever step's passages in the order it returned them (its rank order).
	Documents []Document
	// Answer is the trace's (root run's) output, else the last generation's.
	Answer string
	// Feedback are the trace's scores (Langfuse) or feedback statistics (LangSmith).
	Feedback []Feedback
}

// Document is one retrieved passage.
type Document struct {
	Text string
	// ID is the passage's id or source when the retriever recorded one.
	ID string
	// Score is the retriever's score, nil when it recorded none.
	Score *float64
}

// Feedback is one score or feedback key on a trace.
type Feedback struct {
	// Name is the score's name or the feedback key ("user-feedback", "correctness").
	Name string
	// Value is the score (a categorical one mapped to 1 for positive and 0 for negative words), or LangSmith's
	// average over N.
	Value float64
	N     int
	// Source is Langfuse's score source (API, ANNOTATION, EVAL), "" for LangSmith.
	Source string
}

// ReadFile reads an export: a JSON array of records, JSON Lines, or one JSON object (a trace with its
// observations and scores, or a run with its child_runs).
func ReadFile(path string, format Format) ([]Trace, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(bytes.NewReader(b), path, format)
}

// Parse reads an export from r; name is used in errors ("name line N: field F: …").
func Parse(r io.Reader, name string, format Format) ([]Trace, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	recs, err := records(data, name)
	if err != nil {
		return nil, err
	}
	var lf, ls []item
	for k := 0; k < len(recs); k++ {
		rec := recs[k]
		kind := classify(rec.v)
		if _, ok := rec.v["traces"].([]any); ok && kind == unknown {
			// A Langfuse session's "Download JSON": {id, traces: [...]}.
			subs, err := rec.objects("traces")
			if err != nil {
				return nil, err
			}
			recs = append(recs[:k+1], append(subs, recs[k+1:]...)...)
			continue
		}
		switch {
		case format == LangSmith && kind != run:
			if kind != unknown {
				return nil, rec.errorf("", "a Langfuse %s in a LangSmith export", kind)
			}
			kind = run
		case format == Langfuse && kind == run:
			return nil, rec.errorf("", "a LangSmith run in a Langfuse export")
		case kind == unknown:
			return nil, rec.errorf("", "neither a Langfuse trace, observation or score nor a LangSmith run (fields: %s)", keys(rec.v))
		}
		it := item{rec: rec, kind: kind}
		if kind == run {
			if ls, err = flattenRun(ls, it, ""); err != nil {
				return nil, err
			}
		} else if lf, err = expandLangfuse(lf, it); err != nil {
			return nil, err
		}
	}
	out, err := langfuseTraces(lf)
	if err != nil {
		return nil, err
	}
	more, err := langsmithTraces(ls)
	if err != nil {
		return nil, err
	}
	out = append(out, more...)
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no traces", name)
	}
	return out, nil
}

// record is one JSON object of the file and where it starts.
type record struct {
	file string
	line int
	path string // the field path of an embedded object ("observations[2]"), "" for a top-level record
	v    map[string]any
}

func (r record) where() string { return fmt.Sprintf("%s line %d", r.file, r.line) }

// errorf is an error naming the file, the line and the field (relative to the record).
func (r record) errorf(field, format string, args ...any) error {
	f := r.path
	if field != "" {
		if f != "" {
			f += "."
		}
		f += field
	}
	msg := fmt.Sprintf(format, args...)
	if f == "" {
		return fmt.Errorf("%s: %s", r.where(), msg)
	}
	return fmt.Errorf("%s: field %s: %s", r.where(), f, msg)
}

// sub is an object embedded in r under field.
func (r record) sub(field string, v map[string]any) record {
	p := field
	if r.path != "" {
		p = r.path + "." + field
	}
	return record{file: r.file, line: r.line, path: p, v: v}
}

// records splits the file into its JSON objects, with line numbers.
func records(data []byte, name string) ([]record, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%s: empty file", name)
	}
	lineAt := func(off int64) int { return 1 + bytes.Count(data[:off], []byte("\n")) }
	if trimmed[0] == '[' {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("%s line 1: %w", name, err)
		}
		var out []record
		for dec.More() {
			start := skipSpace(data, dec.InputOffset())
			var v any
			if err := dec.Decode(&v); err != nil {
				return nil, fmt.Errorf("%s line %d: not JSON: %w", name, lineAt(errOffset(err, start)), err)
			}
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s line %d: array element %d: want a JSON object, got %s", name, lineAt(start), len(out), kindOf(v))
			}
			out = append(out, record{file: name, line: lineAt(start), v: m})
		}
		return out, nil
	}
	var whole any
	wholeErr := decode(data, &whole)
	if wholeErr == nil {
		m, ok := whole.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s line 1: want a JSON object or an array of objects, got %s", name, kindOf(whole))
		}
		return []record{{file: name, line: 1 + bytes.Count(data[:len(data)-len(bytes.TrimLeft(data, " \t\r\n"))], []byte("\n")), v: m}}, nil
	}
	// JSON Lines: one object per line.
	var out []record
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var v any
		if err := decode(line, &v); err != nil {
			if len(out) == 0 {
				// Not JSON Lines either: report the error of the file read as one document.
				return nil, fmt.Errorf("%s line %d: not JSON: %w", name, lineAt(errOffset(wholeErr, 0)), wholeErr)
			}
			return nil, fmt.Errorf("%s line %d: not JSON: %w", name, i+1, err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s line %d: want a JSON object, got %s", name, i+1, kindOf(v))
		}
		out = append(out, record{file: name, line: i + 1, v: m})
	}
	return out, nil
}

func decode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("more than one JSON value")
	}
	return nil
}

func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) && strings.IndexByte(" \t\r\n,", data[off]) >= 0 {
		off++
	}
	return off
}

func errOffset(err error, base int64) int64 {
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > 0 {
		return base + se.Offset - 1
	}
	var ue *json.UnmarshalTypeError
	if errors.As(err, &ue) {
		return base + ue.Offset
	}
	return base
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// sortedKeys are m's keys in order, so that errors and feedback come out the same on every run.
func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func keys(m map[string]any) string {
	ks := sortedKeys(m)
	if len(ks) > 8 {
		ks = append(ks[:8], "…")
	}
	return strings.Join(ks, ", ")
}

// kind is what a record is.
type kind string

const (
	unknown     kind = ""
	trace       kind = "trace"
	observation kind = "observation"
	score       kind = "score"
	run         kind = "run"
)

// item is a record with its kind.
type item struct {
	rec  record
	kind kind
}

func has(m map[string]any, ks ...string) bool {
	for _, k := range ks {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

func classify(m map[string]any) kind {
	switch {
	case has(m, "run_type", "inputs", "outputs", "child_runs", "feedback_stats", "dotted_order", "parent_run_id"):
		return run
	case has(m, "trace") && has(m, "observations", "scores"), has(m, "observations", "scores"):
		return trace
	case has(m, "type") && has(m, "traceId", "trace_id", "parentObservationId", "parent_observation_id", "startTime", "start_time"):
		return observation
	case has(m, "name") && has(m, "value", "stringValue", "string_value", "dataType", "data_type"):
		return score
	case has(m, "id") && has(m, "input", "output"):
		return trace
	}
	return unknown
}

// str reads a string field (numbers are accepted for ids); "" when absent or null.
func (r record) str(field string) (string, error) {
	v, ok := r.v[field]
	if !ok || v == nil {
		return "", nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	}
	return "", r.errorf(field, "want a string, got %s", kindOf(v))
}

// strOf reads the first present of several spellings (camelCase and snake_case).
func (r record) strOf(fields ...string) (string, error) {
	for _, f := range fields {
		if _, ok := r.v[f]; ok {
			return r.str(f)
		}
	}
	return "", nil
}

// objects reads an array field of objects; strings in it (ids, as the list endpoints give) are skipped.
func (r record) objects(field string) ([]record, error) {
	v, ok := r.v[field]
	if !ok || v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, r.errorf(field, "want an array, got %s", kindOf(v))
	}
	var out []record
	for i, e := range arr {
		switch x := e.(type) {
		case map[string]any:
			out = append(out, r.sub(fmt.Sprintf("%s[%d]", field, i), x))
		case string:
		default:
			return nil, r.errorf(fmt.Sprintf("%s[%d]", field, i), "want an object, got %s", kindOf(e))
		}
	}
	return out, nil
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}
