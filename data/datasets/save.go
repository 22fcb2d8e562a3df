package datasets

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/ragnb/ragnb/internal/atomicfile"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
	"github.com/parquet-go/parquet-go"
)

// Save writes df to path in the format of its extension (CSV, TSV, JSONL or parquet), atomically: a crash or an error
// leaves any earlier file at path untouched.
func Save(df dataframe.DataFrame, path string) error {
	format, err := FormatOf(path)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, func(f *os.File) error { return Write(f, df, format) })
}

// Write writes df to w as CSV, TSV, JSONL or parquet. Float columns are written as numbers (NaN as an empty
// CSV cell, a JSON null or a parquet null), bool columns as true / false (JSON booleans in JSONL), string
// columns as text. Parquet columns are optional DOUBLE or STRING, in name order (a parquet group's fields are
// sorted), which is what Hugging Face datasets reads.
func Write(w io.Writer, df dataframe.DataFrame, format Format) error {
	if df.Err != nil {
		return df.Err
	}
	names := df.Names()
	cols := make([]series.Series, len(names))
	for j, n := range names {
		cols[j] = df.Col(n)
	}
	switch format {
	case CSV, TSV:
		cw := csv.NewWriter(w)
		if format == TSV {
			cw.Comma = '\t'
		}
		if err := cw.Write(names); err != nil {
			return err
		}
		rec := make([]string, len(names))
		for i := 0; i < df.Nrow(); i++ {
			for j, c := range cols {
				rec[j] = cellText(c, i)
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case JSONL:
		bw := bufio.NewWriter(w)
		for i := 0; i < df.Nrow(); i++ {
			bw.WriteByte('{')
			for j, c := range cols {
				if j > 0 {
					bw.WriteByte(',')
				}
				k, _ := json.Marshal(names[j])
				bw.Write(k)
				bw.WriteByte(':')
				var v []byte
				if c.Type() == series.Bool {
					v = []byte(c.Elem(i).String()) // true / false, so `jq 'select(.flagged)'` works
				} else if c.Type() == series.Float {
					f := c.Elem(i).Float()
					if math.IsNaN(f) || math.IsInf(f, 0) {
						v = []byte("null")
					} else {
						v, _ = json.Marshal(f)
					}
				} else {
					v, _ = json.Marshal(c.Elem(i).String())
				}
				bw.Write(v)
			}
			bw.WriteString("}\n")
		}
		return bw.Flush()
	case Parquet:
		return writeParquet(w, names, cols, df.Nrow())
	default:
		return fmt.Errorf("cannot write format %q (want csv, tsv, jsonl or parquet)", format)
	}
}

func cellText(c series.Series, i int) string {
	e := c.Elem(i)
	if c.Type() == series.Float {
		f := e.Float()
		if math.IsNaN(f) {
			return ""
		}
		return fmt.Sprint(f)
	}
	return e.String()
}

func writeParquet(w io.Writer, names []string, cols []series.Series, rows int) error {
	group := parquet.Group{}
	for j, n := range names {
		if cols[j].Type() == series.Float {
			group[n] = parquet.Optional(parquet.Leaf(parquet.DoubleType))
		} else {
			group[n] = parquet.Optional(parquet.String())
		}
	}
	pw := parquet.NewWriter(w, parquet.NewSchema("row", group))
	for i := 0; i < rows; i++ {
		row := make(map[string]any, len(names))
		for j, n := range names {
			if cols[j].Type() == series.Float {
				f := cols[j].Elem(i).Float()
				if math.IsNaN(f) || math.IsInf(f, 0) {
					row[n] = nil
				} else {
					row[n] = f
				}
			} else {
				row[n] = cols[j].Elem(i).String()
			}
		}
		if err := pw.Write(row); err != nil {
			return fmt.Errorf("parquet row %d: %w", i+1, err)
		}
	}
	return pw.Close()
}
