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
)

// Save writes df to path in the format of its extension (CSV, TSV or JSONL), atomically: a crash or an error
// leaves any earlier file at path untouched.
func Save(df dataframe.DataFrame, path string) error {
	format, err := FormatOf(path)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, func(f *os.File) error { return Write(f, df, format) })
}

// Write writes df to w as CSV, TSV or JSONL. Float columns are written as numbers (NaN as an empty CSV
// cell or a JSON null), bool columns as true / false (JSON booleans in JSONL), string columns as text.
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
	default:
		return fmt.Errorf("cannot write format %q (want csv, tsv or jsonl)", format)
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
