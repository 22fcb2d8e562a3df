package modelcard

import (
	"fmt"
	"strings"
)

// DatasetCard is the README.md of a dataset repository holding one table as parquet: front matter that the
// Hub's dataset viewer and datasets.load_dataset read (configs with the data files, the features), and a short
// description with samples.
type DatasetCard struct {
	// Meta gives license, language; Meta.BaseModel and Meta.Datasets are left out.
	Meta Meta
	// Path is the table's path in the repository (data/train-00000-of-00001.parquet).
	Path string
	// Source names where the table came from (a file, a notebook chain).
	Source string
	Rows   int
	// Columns are the column names and their types ("string" or "float64").
	Columns [][2]string
	// Samples are the first rows, in Columns order.
	Samples [][]string
}

// Markdown renders the dataset card.
func (d DatasetCard) Markdown() []byte {
	var y yamlWriter
	y.list(0, "language", d.Meta.Language)
	if d.Meta.License != "" {
		y.scalar(0, "license", d.Meta.License)
	}
	y.list(0, "tags", []string{"ragnb", "sentence-transformers"})
	y.line(0, "size_categories:")
	y.line(0, "- "+sizeCategory(d.Rows))
	y.line(0, "configs:")
	y.line(0, "- config_name: default")
	y.line(2, "data_files:")
	y.line(2, "- split: train")
	y.scalar(4, "path", d.Path)
	y.line(0, "dataset_info:")
	y.line(2, "features:")
	for _, c := range d.Columns {
		y.scalar(2, "- name", c[0])
		y.scalar(4, "dtype", c[1])
	}
	y.line(2, "splits:")
	y.line(2, "- name: train")
	y.line(4, fmt.Sprintf("num_examples: %d", d.Rows))
	var b strings.Builder
	b.WriteString("---\n" + y.String() + "---\n\n# Dataset written by ragnb\n\n")
	if d.Source != "" {
		fmt.Fprintf(&b, "Source: `%s`.\n\n", d.Source)
	}
	names := make([]string, len(d.Columns))
	for i, c := range d.Columns {
		names[i] = c[0]
	}
	fmt.Fprintf(&b, "%d rows, columns %s, in `%s`.\n\n", d.Rows, strings.Join(backticked(names), ", "), d.Path)
	if len(d.Samples) > 0 {
		b.WriteString("| " + strings.Join(names, " | ") + " |\n|" + strings.Repeat(":--|", len(names)) + "\n")
		for _, s := range d.Samples {
			cells := make([]string, len(s))
			for i, v := range s {
				cells[i] = cell(v)
			}
			b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("```python\nfrom datasets import load_dataset\n\nds = load_dataset(\"" + Placeholder + "\", split=\"train\")\n```\n")
	return []byte(b.String())
}

// sizeCategory is the Hub's size_categories bucket for n rows.
func sizeCategory(n int) string {
	switch {
	case n < 1000:
		return "n<1K"
	case n < 10000:
		return "1K<n<10K"
	case n < 100000:
		return "10K<n<100K"
	case n < 1000000:
		return "100K<n<1M"
	}
	return "1M<n<10M"
}
