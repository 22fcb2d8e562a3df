package workflow

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-gota/gota/dataframe"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/ir"
)

// Output says where a step's table was written. A run that failed (an interrupt, every request refused, rows
// the user did not allow to be missing) never replaces the file asked for — it may hold the good result of an
// earlier run — and writes what it produced beside it instead, in PartialPath.
type Output struct {
	// Path is the file written: the one asked for, or its partial sibling.
	Path string `json:"path"`
	// Partial says the run failed: Path is PartialPath(Requested) and Requested was left as it was.
	Partial bool `json:"partial"`
	// Requested is the file asked for.
	Requested string `json:"requested"`
	// Rows is the number of rows written.
	Rows int `json:"rows"`
}

// PartialPath is where a failed run's table goes beside out: pairs.jsonl → pairs.partial.jsonl.
func PartialPath(out string) string {
	ext := filepath.Ext(out)
	return strings.TrimSuffix(out, ext) + ".partial" + ext
}

// WriteOutput writes df to out when the run is complete, else to PartialPath(out), leaving out untouched.
// Both writes are atomic (a temporary file renamed into place), so an interrupt while writing leaves any
// earlier file whole. A complete run removes the partial file an earlier failed run left.
func WriteOutput(df dataframe.DataFrame, out string, complete bool) (Output, error) {
	return writeOutput(out, df.Nrow(), complete, func(path string) error { return datasets.Save(df, path) })
}

// WriteLlamaIndexOutput is WriteOutput for a LlamaIndex EmbeddingQAFinetuneDataset (ir.SaveLlamaIndex); Rows
// counts its queries.
func WriteLlamaIndexOutput(ds *ir.Dataset, out string, complete bool) (Output, error) {
	return writeOutput(out, len(ds.Queries), complete, func(path string) error { return ir.SaveLlamaIndex(ds, path) })
}

func writeOutput(out string, rows int, complete bool, save func(path string) error) (Output, error) {
	o := Output{Path: out, Requested: out, Rows: rows}
	if !complete {
		o.Path, o.Partial = PartialPath(out), true
	}
	if err := save(o.Path); err != nil {
		return o, err
	}
	if complete {
		if err := os.Remove(PartialPath(out)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return o, fmt.Errorf("remove the stale %s: %w", PartialPath(out), err)
		}
	}
	return o, nil
}

// String is the line the faces print: where the rows went and, after a failure, that the file asked for was
// kept.
func (o Output) String() string {
	if !o.Partial {
		return fmt.Sprintf("wrote %d rows to %s", o.Rows, o.Path)
	}
	return fmt.Sprintf("the run failed: %s left as it was; wrote the %d rows produced to %s", o.Requested, o.Rows, o.Path)
}

// Wrap adds to a failed run's error where its rows went.
func (o Output) Wrap(err error) error {
	if err == nil || !o.Partial {
		return err
	}
	return fmt.Errorf("%w (%s left as it was; the %d rows produced are in %s)", err, o.Requested, o.Rows, o.Path)
}
