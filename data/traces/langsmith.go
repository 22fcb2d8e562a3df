package traces

import (
	"fmt"
	"sort"
	"strings"
)

// A LangSmith export holds runs (id, name, run_type "chain" / "retriever" / "llm" / …, inputs, outputs,
// parent_run_id, trace_id, start_time, dotted_order, feedback_stats {key: {n, avg}}), flat as list_runs gives
// them or nested in child_runs as read_run(load_child_runs=True) does; a trace is the runs sharing a trace_id
// (the root's id), its root the run without a parent.

// flattenRun adds a run and its child_runs, the children naming their parent and trace when they do not.
func flattenRun(out []item, it item, parent string) ([]item, error) {
	r := it.rec
	id, err := r.str("id")
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, r.errorf("id", "missing (a LangSmith run needs its id)")
	}
	if parent != "" {
		if p, _ := r.str("parent_run_id"); p == "" {
			r.v["parent_run_id"] = parent
		}
	}
	if _, err := r.str("run_type"); err != nil {
		return nil, err
	}
	out = append(out, item{rec: r, kind: run})
	children, err := r.objects("child_runs")
	if err != nil {
		return nil, err
	}
	for _, c := range children {
		if tid, _ := c.str("trace_id"); tid == "" {
			if t, _ := r.str("trace_id"); t != "" {
				c.v["trace_id"] = t
			}
		}
		if out, err = flattenRun(out, item{rec: c, kind: run}, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func langsmithTraces(items []item) ([]Trace, error) {
	byID := map[string]record{}
	parentOf := map[string]string{}
	for _, it := range items {
		id, _ := it.rec.str("id")
		p, err := it.rec.str("parent_run_id")
		if err != nil {
			return nil, err
		}
		byID[id], parentOf[id] = it.rec, p
	}
	traceOf := func(r record) (string, error) {
		if t, err := r.str("trace_id"); err != nil || t != "" {
			return t, err
		}
		id, _ := r.str("id")
		for seen := 0; parentOf[id] != "" && seen <= len(parentOf); seen++ {
			if _, ok := byID[parentOf[id]]; !ok {
				return parentOf[id], nil // the root is not in the file: group by the nearest ancestor's id
			}
			id = parentOf[id]
		}
		return id, nil
	}
	var order []string
	groups := map[string][]record{}
	for _, it := range items {
		tid, err := traceOf(it.rec)
		if err != nil {
			return nil, err
		}
		if _, ok := groups[tid]; !ok {
			order = append(order, tid)
		}
		groups[tid] = append(groups[tid], it.rec)
	}
	out := make([]Trace, 0, len(order))
	for _, tid := range order {
		t, err := buildRun(tid, groups[tid])
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func buildRun(tid string, runs []record) (Trace, error) {
	t := Trace{Tool: LangSmith, ID: tid, Source: runs[0].where()}
	sorted := append([]record(nil), runs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, _ := sorted[i].strOf("dotted_order", "start_time")
		b, _ := sorted[j].strOf("dotted_order", "start_time")
		return a < b
	})
	var root, retriever, lastLLM *record
	for i := range sorted {
		r := &sorted[i]
		id, _ := r.str("id")
		parent, _ := r.str("parent_run_id")
		typ, _ := r.str("run_type")
		if root == nil && (id == tid || parent == "") {
			root = r
		}
		if retriever == nil && strings.EqualFold(typ, "retriever") {
			retriever = r
		}
		if strings.EqualFold(typ, "llm") || strings.EqualFold(typ, "chat_model") {
			lastLLM = r
		}
	}
	if root == nil {
		root = &sorted[0]
	}
	if err := t.fill([]*record{root}, retriever, lastLLM, "inputs", "outputs"); err != nil {
		return t, err
	}
	for _, r := range sorted {
		fb, err := feedbackStats(r)
		if err != nil {
			return t, err
		}
		t.Feedback = append(t.Feedback, fb...)
	}
	return t, nil
}

// feedbackStats reads a run's feedback_stats {key: {n, avg, values}}: the average when there is one, else
// categorical counts in values mapped as Langfuse's categories are.
func feedbackStats(r record) ([]Feedback, error) {
	v, ok := r.v["feedback_stats"]
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, r.errorf("feedback_stats", "want an object {key: {n, avg}}, got %s", kindOf(v))
	}
	names := sortedKeys(m)
	var out []Feedback
	for _, k := range names {
		field := "feedback_stats." + k
		st, ok := m[k].(map[string]any)
		if !ok {
			return nil, r.errorf(field, "want an object {n, avg}, got %s", kindOf(m[k]))
		}
		n := 1
		if nv, ok := st["n"]; ok && nv != nil {
			x, ok := number(nv)
			if !ok {
				return nil, r.errorf(field+".n", "want a number, got %s", kindOf(nv))
			}
			n = int(x)
		}
		if av, ok := st["avg"]; ok && av != nil {
			x, ok := number(av)
			if !ok {
				return nil, r.errorf(field+".avg", "want a number, got %s", kindOf(av))
			}
			out = append(out, Feedback{Name: k, Value: x, N: n})
			continue
		}
		vals, _ := st["values"].(map[string]any)
		sum, cnt := 0.0, 0
		for label, c := range vals {
			x, ok := number(c)
			val, isCat := category(label)
			if !ok || !isCat {
				continue
			}
			sum += val * x
			cnt += int(x)
		}
		if cnt > 0 {
			out = append(out, Feedback{Name: k, Value: sum / float64(cnt), N: cnt})
		}
	}
	return out, nil
}

// documentsOf reads the retrieved passages from a retriever's output field.
func documentsOf(r record, field string) ([]Document, error) {
	v, ok := r.v[field]
	if !ok || v == nil {
		return nil, nil // a retriever that failed or was cut short records no output
	}
	where := field
	var arr []any
	switch x := v.(type) {
	case []any:
		arr = x
	case map[string]any:
		for _, k := range []string{"documents", "docs", "nodes", "source_nodes", "results", "retrieved_documents", "contexts", "context", "chunks", "output"} {
			if a, ok := x[k].([]any); ok {
				arr, where = a, field+"."+k
				break
			}
		}
		if arr == nil {
			return nil, nil
		}
	case string:
		return []Document{{Text: x}}, nil
	default:
		return nil, r.errorf(field, "want the retrieved documents, got %s", kindOf(v))
	}
	out := make([]Document, 0, len(arr))
	for i, e := range arr {
		d, err := document(e)
		if err != nil {
			return nil, r.errorf(fmt.Sprintf("%s[%d]", where, i), "%v", err)
		}
		out = append(out, d)
	}
	return out, nil
}

// document reads one passage: a string, a LangChain Document {page_content, metadata, type}, or a LlamaIndex
// node with score {node: {text, id_}, score}.
func document(e any) (Document, error) {
	switch x := e.(type) {
	case string:
		return Document{Text: x}, nil
	case map[string]any:
		var d Document
		if n, ok := x["node"].(map[string]any); ok {
			inner, err := document(n)
			if err != nil {
				return d, err
			}
			d = inner
		}
		for _, k := range []string{"page_content", "pageContent", "text", "content", "chunk", "document"} {
			if s, ok := x[k].(string); ok {
				d.Text = s
				break
			}
			if v, ok := x[k]; ok && v != nil {
				return d, fmt.Errorf("%s: want a string, got %s", k, kindOf(v))
			}
		}
		meta, _ := x["metadata"].(map[string]any)
		for _, src := range []map[string]any{x, meta} {
			for _, k := range []string{"id", "id_", "doc_id", "document_id", "source"} {
				if d.ID != "" {
					break
				}
				if s, ok := src[k].(string); ok {
					d.ID = s
				}
			}
			for _, k := range []string{"score", "relevance_score", "similarity", "similarity_score"} {
				if d.Score != nil {
					break
				}
				if f, ok := number(src[k]); ok {
					d.Score = &f
				}
			}
		}
		return d, nil
	}
	return Document{}, fmt.Errorf("want a document (string or object), got %s", kindOf(e))
}
