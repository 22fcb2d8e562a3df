package workflow

import (
	"bufio"
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

// A table stored by a step is table.gob: the column names, gota types and values, so a cache hit gives back
// exactly the table the step produced (types included) and loads fast. It is a private cache format; its
// version is in the file name, and a step's key changes with its own version.

const tableFile = "table.v1.gob"

type storedColumn struct {
	Name   string
	Type   string
	Text   []string  // string, int and bool columns ("NaN" marks a missing value, as in gota)
	Floats []float64 // float columns
}

// SaveTable stores df in a step's cache directory (dir), as steps that produce tables do.
func SaveTable(dir string, df dataframe.DataFrame) error {
	cols := make([]storedColumn, 0, df.Ncol())
	for _, name := range df.Names() {
		s := df.Col(name)
		c := storedColumn{Name: name, Type: string(s.Type())}
		if s.Type() == series.Float {
			c.Floats = s.Float()
		} else {
			c.Text = s.Records()
		}
		cols = append(cols, c)
	}
	f, err := os.Create(filepath.Join(dir, tableFile))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := gob.NewEncoder(w).Encode(cols); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// LoadTable reads a table SaveTable stored in dir.
func LoadTable(dir string) (dataframe.DataFrame, error) {
	path := filepath.Join(dir, tableFile)
	f, err := os.Open(path)
	if err != nil {
		return dataframe.DataFrame{}, err
	}
	defer f.Close()
	var cols []storedColumn
	if err := gob.NewDecoder(bufio.NewReader(f)).Decode(&cols); err != nil {
		return dataframe.DataFrame{}, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]series.Series, len(cols))
	for i, c := range cols {
		if series.Type(c.Type) == series.Float {
			out[i] = series.New(c.Floats, series.Float, c.Name)
		} else {
			if c.Text == nil {
				c.Text = []string{}
			}
			out[i] = series.New(c.Text, series.Type(c.Type), c.Name)
		}
	}
	return dataframe.New(out...), nil
}
