// Package notebook reads and writes Jupyter notebooks (nbformat 4), exports a GoNB notebook to a standalone Go
// program, runs a notebook headless through that program, and runs it in real Jupyter with the "Go (ragnb)"
// kernel. It does not own the kernel's installation (package kernel) nor what is displayed (package display).
package notebook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/ragnb/ragnb/internal/atomicfile"
)

// Notebook is an nbformat 4 notebook.
type Notebook struct {
	Cells         []Cell         `json:"cells"`
	Metadata      map[string]any `json:"metadata"`
	NBFormat      int            `json:"nbformat"`
	NBFormatMinor int            `json:"nbformat_minor"`
}

// Cell is one notebook cell. Outputs and ExecutionCount belong to code cells only.
type Cell struct {
	ID             string
	CellType       string // "code", "markdown" or "raw"
	Source         string
	Metadata       map[string]any
	ExecutionCount *int
	Outputs        []Output
}

// Output is one output of a code cell.
type Output struct {
	OutputType string // "stream", "display_data", "execute_result" or "error"
	// Name and Text are a stream's ("stdout" or "stderr") and its text.
	Name, Text string
	// Data maps MIME types to content: a string for text types and images (base64 for PNG), JSON otherwise.
	Data           map[string]json.RawMessage
	Metadata       map[string]any
	ExecutionCount *int
	// EName, EValue and Traceback describe an error.
	EName, EValue string
	Traceback     []string
}

// multiString is nbformat's text: a string or a list of strings to concatenate.
type multiString string

func (m *multiString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*m = multiString(s)
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("want a string or a list of strings: %w", err)
	}
	*m = multiString(strings.Join(list, ""))
	return nil
}

// MarshalJSON writes the list form, one element per line, as Jupyter does.
func (m multiString) MarshalJSON() ([]byte, error) {
	return json.Marshal(splitLines(string(m)))
}

// splitLines splits s after each newline, keeping the newlines.
func splitLines(s string) []string {
	lines := []string{}
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			lines = append(lines, s)
			break
		}
		lines = append(lines, s[:i+1])
		s = s[i+1:]
	}
	return lines
}

type cellJSON struct {
	ID             string          `json:"id,omitempty"`
	CellType       string          `json:"cell_type"`
	Metadata       map[string]any  `json:"metadata"`
	Source         multiString     `json:"source"`
	ExecutionCount json.RawMessage `json:"execution_count,omitempty"`
	Outputs        *[]Output       `json:"outputs,omitempty"`
	Attachments    map[string]any  `json:"attachments,omitempty"`
}

// UnmarshalJSON reads a cell.
func (c *Cell) UnmarshalJSON(b []byte) error {
	var j cellJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*c = Cell{ID: j.ID, CellType: j.CellType, Source: string(j.Source), Metadata: j.Metadata}
	if len(j.ExecutionCount) > 0 && string(j.ExecutionCount) != "null" {
		var n int
		if err := json.Unmarshal(j.ExecutionCount, &n); err != nil {
			return fmt.Errorf("execution_count: %w", err)
		}
		c.ExecutionCount = &n
	}
	if j.Outputs != nil {
		c.Outputs = *j.Outputs
	}
	return nil
}

// MarshalJSON writes a cell; code cells always carry outputs and execution_count (null when not run).
func (c Cell) MarshalJSON() ([]byte, error) {
	j := cellJSON{ID: c.ID, CellType: c.CellType, Metadata: c.Metadata, Source: multiString(c.Source)}
	if j.Metadata == nil {
		j.Metadata = map[string]any{}
	}
	if c.CellType == "code" {
		j.ExecutionCount = json.RawMessage("null")
		if c.ExecutionCount != nil {
			j.ExecutionCount = json.RawMessage(fmt.Sprint(*c.ExecutionCount))
		}
		outs := c.Outputs
		if outs == nil {
			outs = []Output{}
		}
		j.Outputs = &outs
	}
	return json.Marshal(j)
}

type outputJSON struct {
	OutputType     string                     `json:"output_type"`
	Name           string                     `json:"name,omitempty"`
	Text           *multiString               `json:"text,omitempty"`
	Data           map[string]json.RawMessage `json:"data,omitempty"`
	Metadata       *map[string]any            `json:"metadata,omitempty"`
	ExecutionCount json.RawMessage            `json:"execution_count,omitempty"`
	EName          string                     `json:"ename,omitempty"`
	EValue         *string                    `json:"evalue,omitempty"`
	Traceback      *[]string                  `json:"traceback,omitempty"`
}

// UnmarshalJSON reads an output.
func (o *Output) UnmarshalJSON(b []byte) error {
	var j outputJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*o = Output{OutputType: j.OutputType, Name: j.Name, Data: j.Data, EName: j.EName}
	if j.Text != nil {
		o.Text = string(*j.Text)
	}
	if j.Metadata != nil {
		o.Metadata = *j.Metadata
	}
	if j.EValue != nil {
		o.EValue = *j.EValue
	}
	if j.Traceback != nil {
		o.Traceback = *j.Traceback
	}
	if len(j.ExecutionCount) > 0 && string(j.ExecutionCount) != "null" {
		var n int
		if err := json.Unmarshal(j.ExecutionCount, &n); err == nil {
			o.ExecutionCount = &n
		}
	}
	return nil
}

// MarshalJSON writes an output with the fields its type requires.
func (o Output) MarshalJSON() ([]byte, error) {
	j := outputJSON{OutputType: o.OutputType}
	switch o.OutputType {
	case "stream":
		j.Name = o.Name
		t := multiString(o.Text)
		j.Text = &t
	case "display_data", "execute_result":
		j.Data = o.Data
		if j.Data == nil {
			j.Data = map[string]json.RawMessage{}
		}
		md := o.Metadata
		if md == nil {
			md = map[string]any{}
		}
		j.Metadata = &md
		if o.OutputType == "execute_result" {
			j.ExecutionCount = json.RawMessage("null")
			if o.ExecutionCount != nil {
				j.ExecutionCount = json.RawMessage(fmt.Sprint(*o.ExecutionCount))
			}
		}
	case "error":
		j.EName = o.EName
		ev, tb := o.EValue, o.Traceback
		if tb == nil {
			tb = []string{}
		}
		j.EValue, j.Traceback = &ev, &tb
	}
	return json.Marshal(j)
}

// DataText returns the content for mime as text (list forms joined); "" when absent or not text.
func (o Output) DataText(mime string) string {
	raw, ok := o.Data[mime]
	if !ok {
		return ""
	}
	var m multiString
	if err := json.Unmarshal(raw, &m); err != nil {
		return string(raw) // JSON data: its encoding
	}
	return string(m)
}

// Parse reads a notebook from its JSON.
func Parse(data []byte) (*Notebook, error) {
	var nb Notebook
	if err := json.Unmarshal(data, &nb); err != nil {
		return nil, err
	}
	if nb.NBFormat != 4 {
		return nil, fmt.Errorf("nbformat %d: only version 4 notebooks are supported", nb.NBFormat)
	}
	return &nb, nil
}

// Read reads the notebook file at path.
func Read(path string) (*Notebook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	nb, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("read notebook %s: %w", path, err)
	}
	return nb, nil
}

// Marshal encodes nb as Jupyter does (one-space indent, trailing newline).
func (nb *Notebook) Marshal() ([]byte, error) {
	if nb.Metadata == nil {
		nb.Metadata = map[string]any{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(nb); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Write writes nb to path atomically (temp file + rename).
func (nb *Notebook) Write(path string) error {
	data, err := nb.Marshal()
	if err != nil {
		return fmt.Errorf("write notebook %s: %w", path, err)
	}
	return atomicfile.WriteBytes(path, data)
}

// ErrorOutputs lists the error outputs of every code cell as "cell N: ename: evalue" (N counts all cells from 1).
func (nb *Notebook) ErrorOutputs() []string {
	var errs []string
	for i, c := range nb.Cells {
		for _, o := range c.Outputs {
			if o.OutputType == "error" {
				errs = append(errs, fmt.Sprintf("cell %d: %s: %s", i+1, o.EName, strings.TrimSpace(o.EValue)))
			}
		}
	}
	return errs
}

// CountOutputs counts the outputs of all cells that carry mime (a MIME type, or "stream:stdout" and
// "stream:stderr" for streams, or "error").
func (nb *Notebook) CountOutputs(mime string) int {
	n := 0
	for _, c := range nb.Cells {
		for _, o := range c.Outputs {
			switch {
			case o.OutputType == "error" && mime == "error":
				n++
			case o.OutputType == "stream" && mime == "stream:"+o.Name:
				n++
			case o.Data != nil:
				if _, ok := o.Data[mime]; ok {
					n++
				}
			}
		}
	}
	return n
}

// Text renders the notebook's outputs as text, cell by cell: streams as they are, text/plain, and a line for
// every rich output ("[text/html, 1.2 kB]").
func (nb *Notebook) Text() string {
	var sb strings.Builder
	for i, c := range nb.Cells {
		if c.CellType != "code" || len(c.Outputs) == 0 {
			continue
		}
		fmt.Fprintf(&sb, "── cell %d ──\n", i+1)
		for _, o := range c.Outputs {
			switch o.OutputType {
			case "stream":
				sb.WriteString(ensureNewline(o.Text))
			case "error":
				fmt.Fprintf(&sb, "ERROR %s: %s\n", o.EName, strings.TrimSpace(o.EValue))
			default:
				if t := o.DataText("text/plain"); t != "" {
					sb.WriteString(ensureNewline(t))
				}
				for _, mime := range sortedKeys(o.Data) {
					if mime != "text/plain" {
						fmt.Fprintf(&sb, "[%s, %d bytes]\n", mime, len(o.DataText(mime)))
					}
				}
			}
		}
	}
	return sb.String()
}

func ensureNewline(s string) string {
	if s == "" || strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
