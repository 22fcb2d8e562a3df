package workflow

import (
	"context"
	"fmt"

	"github.com/go-gota/gota/dataframe"

	"github.com/ragnb/ragnb/data/traces"
)

// ImportOptions configure ImportTraces.
type ImportOptions struct {
	// Format is "auto" (told apart record by record), "langfuse" or "langsmith".
	Format string `json:"format"`
	// Pairs choose each trace's positive and negatives: the positive policy (feedback, top1, none), hard
	// negatives, the feedback threshold and names, and whether flagged rows are dropped.
	Pairs traces.Options `json:"pairs"`
}

// DefaultImportOptions are the trace import's defaults, the same for `ragnb import-traces` and the prelude's
// ImportTraces: the format told apart by the records; a trace's top passage is its positive only when the
// user's feedback is positive (≥ 0.5, which reads both 0/1 and −1/1 thumbs), every other row is kept but
// flagged for review — a retriever's top hit is what the application already ranks first, so trusting it
// blindly would teach the model its own mistakes; no negatives.
func DefaultImportOptions() ImportOptions {
	return ImportOptions{Format: string(traces.Auto), Pairs: traces.Options{Positive: traces.PositiveFeedback, MinFeedback: 0.5}}
}

// Check validates the options.
func (o ImportOptions) Check() error {
	if _, err := traces.ParseFormat(o.Format); err != nil {
		return err
	}
	return o.Pairs.Check()
}

// ImportTracesInput names the export to read.
type ImportTracesInput struct {
	// Path is a Langfuse or LangSmith export: a JSON array, JSON Lines, or one trace's JSON.
	Path string
}

// ImportedTraces is ImportTraces' outcome.
type ImportedTraces struct {
	Traces []traces.Trace
	Pairs  []traces.Pair
	// Table is the pairs as a table (traces.Frame) with the review columns flagged and reason.
	Table   dataframe.DataFrame
	Flagged int
}

// Summary is one line: traces read, rows written, rows flagged.
func (r *ImportedTraces) Summary() string {
	return fmt.Sprintf("%d traces → %d rows, %d flagged for review", len(r.Traces), len(r.Pairs), r.Flagged)
}

// ImportTraces reads a trace export and turns it into (query, positive) pairs with their review columns. It
// is not memoised: reading the file costs less than hashing it for a cache key.
func ImportTraces(ctx context.Context, env Env, in ImportTracesInput, o ImportOptions) (*ImportedTraces, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	format, _ := traces.ParseFormat(o.Format)
	tr, err := traces.ReadFile(in.Path, format)
	if err != nil {
		return nil, err
	}
	pairs, err := traces.Pairs(tr, o.Pairs)
	if err != nil {
		return nil, err
	}
	out := &ImportedTraces{Traces: tr, Pairs: pairs, Table: traces.Frame(pairs, o.Pairs.Negatives)}
	for _, p := range pairs {
		if p.Flagged {
			out.Flagged++
		}
	}
	return out, out.Table.Err
}
