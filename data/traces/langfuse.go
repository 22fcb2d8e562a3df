package traces

import (
	"fmt"
	"sort"
	"strings"
)

// A Langfuse export holds traces (id, input, output, and in a trace's "Download JSON" or the API's trace
// object its observations and scores), observations (id, traceId, type SPAN / GENERATION / RETRIEVER / …,
// parentObservationId, startTime, input, output) and scores (traceId, name, value, stringValue, dataType,
// source), in any mix: the table exports write each kind on its own, so they are grouped by trace id.

// expandLangfuse adds a record and the observations and scores embedded in it.
func expandLangfuse(out []item, it item) ([]item, error) {
	if it.kind != trace {
		return append(out, it), nil
	}
	r := it.rec
	base := r
	if t, ok := r.v["trace"].(map[string]any); ok {
		base = r.sub("trace", t) // {"trace": {…}, "observations": […], "scores": […]}
	}
	id, err := base.str("id")
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, base.errorf("id", "missing (a Langfuse trace needs its id)")
	}
	out = append(out, item{rec: base, kind: trace})
	for _, field := range []string{"observations", "scores"} {
		src := base
		if _, ok := base.v[field]; !ok {
			src = r
		}
		var subs []record
		var err error
		if m, ok := src.v[field].(map[string]any); ok && field == "scores" {
			subs, err = scoreMap(src, m)
		} else {
			subs, err = src.objects(field)
		}
		if err != nil {
			return nil, err
		}
		k := observation
		if field == "scores" {
			k = score
		}
		for _, s := range subs {
			if tid, _ := s.strOf("traceId", "trace_id"); tid == "" {
				s.v["traceId"] = id
			}
			out = append(out, item{rec: s, kind: k})
		}
	}
	return out, nil
}

// scoreMap reads the scores of a traces-table batch export, {name: [values]}: numbers by value, strings as
// categories, each value one score.
func scoreMap(r record, m map[string]any) ([]record, error) {
	names := sortedKeys(m)
	var out []record
	for _, name := range names {
		vals, ok := m[name].([]any)
		if !ok {
			vals = []any{m[name]}
		}
		for i, v := range vals {
			field := fmt.Sprintf("scores.%s[%d]", name, i)
			sc := map[string]any{"name": name}
			switch x := v.(type) {
			case string:
				sc["stringValue"], sc["dataType"] = x, "CATEGORICAL"
			case nil:
				continue
			default:
				if _, ok := number(x); !ok {
					return nil, r.errorf(field, "want a number or a category, got %s", kindOf(v))
				}
				sc["value"] = x
			}
			out = append(out, r.sub(field, sc))
		}
	}
	return out, nil
}

// lfGroup is one trace's records.
type lfGroup struct {
	id     string
	first  record
	trace  *record
	obs    []record
	scores []record
}

func langfuseTraces(items []item) ([]Trace, error) {
	var order []*lfGroup
	groups := map[string]*lfGroup{}
	for _, it := range items {
		r := it.rec
		var id string
		var err error
		if it.kind == trace {
			id, err = r.str("id")
		} else if id, err = r.strOf("traceId", "trace_id"); err == nil && id == "" {
			field := "traceId"
			return nil, r.errorf(field, "missing (a Langfuse %s names its trace)", it.kind)
		}
		if err != nil {
			return nil, err
		}
		g := groups[id]
		if g == nil {
			g = &lfGroup{id: id, first: r}
			groups[id] = g
			order = append(order, g)
		}
		switch it.kind {
		case trace:
			rr := r
			g.trace = &rr
		case observation:
			if _, err := r.str("type"); err != nil {
				return nil, err
			}
			g.obs = append(g.obs, r)
		case score:
			g.scores = append(g.scores, r)
		}
	}
	out := make([]Trace, 0, len(order))
	for _, g := range order {
		t, err := g.build()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (g *lfGroup) build() (Trace, error) {
	t := Trace{Tool: Langfuse, ID: g.id, Source: g.first.where()}
	obs := append([]record(nil), g.obs...)
	sort.SliceStable(obs, func(i, j int) bool {
		a, _ := obs[i].strOf("startTime", "start_time")
		b, _ := obs[j].strOf("startTime", "start_time")
		return a < b
	})
	var root, retriever, named, lastGen *record
	for i := range obs {
		o := &obs[i]
		typ, _ := o.str("type")
		name, _ := o.str("name")
		parent, err := o.strOf("parentObservationId", "parent_observation_id")
		if err != nil {
			return t, err
		}
		if parent == "" && root == nil {
			root = o
		}
		if retriever == nil && strings.EqualFold(typ, "RETRIEVER") {
			retriever = o
		}
		if named == nil && strings.Contains(strings.ToLower(name), "retriev") {
			// Integrations older than the RETRIEVER type log the retriever as a SPAN named after its class.
			if docs, err := documentsOf(*o, "output"); err == nil && len(docs) > 0 {
				named = o
			}
		}
		if strings.EqualFold(typ, "GENERATION") {
			lastGen = o
		}
	}
	if retriever == nil {
		retriever = named
	}
	var roots []*record
	if g.trace != nil {
		roots = append(roots, g.trace)
	}
	if root != nil {
		roots = append(roots, root)
	}
	if err := t.fill(roots, retriever, lastGen, "input", "output"); err != nil {
		return t, err
	}
	for _, s := range g.scores {
		f, ok, err := langfuseScore(s)
		if err != nil {
			return t, err
		}
		if ok {
			t.Feedback = append(t.Feedback, f)
		}
	}
	return t, nil
}

// langfuseScore reads a score: NUMERIC and BOOLEAN ones by value, CATEGORICAL ones by their stringValue
// (positive words 1, negative words 0; other categories are not feedback and are left out).
func langfuseScore(s record) (Feedback, bool, error) {
	name, err := s.str("name")
	if err != nil {
		return Feedback{}, false, err
	}
	source, err := s.str("source")
	if err != nil {
		return Feedback{}, false, err
	}
	f := Feedback{Name: name, N: 1, Source: source}
	if v, ok := s.v["value"]; ok && v != nil {
		x, ok := number(v)
		if !ok {
			if sv, isStr := v.(string); isStr {
				if c, ok := category(sv); ok {
					f.Value = c
					return f, true, nil
				}
				return f, false, nil
			}
			return f, false, s.errorf("value", "want a number, got %s", kindOf(v))
		}
		dt, _ := s.strOf("dataType", "data_type")
		if !strings.EqualFold(dt, "CATEGORICAL") {
			f.Value = x
			return f, true, nil
		}
	}
	sv, err := s.strOf("stringValue", "string_value")
	if err != nil {
		return f, false, err
	}
	if c, ok := category(sv); ok {
		f.Value = c
		return f, true, nil
	}
	return f, false, nil
}

// category maps a categorical feedback label to 1 (positive) or 0 (negative).
func category(s string) (float64, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "positive", "good", "correct", "yes", "true", "thumbs up", "thumbs_up", "up", "helpful", "relevant", "👍":
		return 1, true
	case "negative", "bad", "incorrect", "wrong", "no", "false", "thumbs down", "thumbs_down", "down", "unhelpful", "not helpful", "irrelevant", "👎":
		return 0, true
	}
	return 0, false
}
