package modelcard

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// yamlWriter writes the small subset of YAML a card's front matter needs: scalars, lists of scalars and the
// nested blocks of model-index, with every string quoted when plain YAML could misread it.
type yamlWriter struct{ b strings.Builder }

func (y *yamlWriter) line(indent int, s string) {
	y.b.WriteString(strings.Repeat(" ", indent))
	y.b.WriteString(s)
	y.b.WriteByte('\n')
}

func (y *yamlWriter) scalar(indent int, key, value string) { y.line(indent, key+": "+quote(value)) }

func (y *yamlWriter) list(indent int, key string, values []string) {
	if len(values) == 0 {
		return
	}
	y.line(indent, key+":")
	for _, v := range values {
		y.line(indent, "- "+quote(v))
	}
}

func (y *yamlWriter) String() string { return y.b.String() }

// quote leaves a string plain when YAML reads it back as the same string, and double-quotes it otherwise
// (numbers, booleans, null, leading indicators, ": " and " #").
func quote(s string) string {
	if s == "" {
		return `""`
	}
	plain := true
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "null", "~", "y", "n":
		plain = false
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		plain = false
	}
	if strings.ContainsAny(s[:1], "-?:,[]{}#&*!|>'\"%@` ") || strings.HasSuffix(s, " ") ||
		strings.Contains(s, ": ") || strings.Contains(s, " #") || strings.HasSuffix(s, ":") ||
		strings.ContainsAny(s, "\n\r\t\"\\") {
		plain = false
	}
	if plain {
		return s
	}
	return strconv.Quote(s)
}

// SetMeta sets the front-matter fields that meta gives (non-empty) in a card already written: each replaces
// the top-level key's whole block, or is added before the closing "---". The rest of the card is kept
// byte for byte. A README without front matter gets one.
func SetMeta(readme []byte, meta Meta) ([]byte, error) {
	var y yamlWriter
	set := map[string]string{}
	add := func(key string, write func()) {
		y.b.Reset()
		write()
		set[key] = y.String()
	}
	if meta.BaseModel != "" {
		if !IsHubID(meta.BaseModel) {
			return nil, fmt.Errorf("model card: base model %q is not a Hub id (org/name)", meta.BaseModel)
		}
		add("base_model", func() { y.scalar(0, "base_model", meta.BaseModel) })
	}
	if meta.License != "" {
		add("license", func() { y.scalar(0, "license", meta.License) })
	}
	if len(meta.Language) > 0 {
		add("language", func() { y.list(0, "language", meta.Language) })
	}
	if len(meta.Datasets) > 0 {
		add("datasets", func() { y.list(0, "datasets", meta.Datasets) })
	}
	if len(set) == 0 {
		return readme, nil
	}
	front, body, ok := splitFrontMatter(readme)
	if !ok {
		front, body = nil, readme
	}
	var out bytes.Buffer
	out.WriteString("---\n")
	lines := strings.SplitAfter(string(front), "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if l == "" {
			continue
		}
		key, _, isKey := strings.Cut(l, ":")
		if isKey && !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "-") {
			if v, ok := set[key]; ok {
				out.WriteString(v)
				delete(set, key)
				// Skip the block: the indented lines and list items under this key.
				for i+1 < len(lines) && (strings.HasPrefix(lines[i+1], " ") || strings.HasPrefix(lines[i+1], "-")) {
					i++
				}
				continue
			}
		}
		out.WriteString(l)
		if !strings.HasSuffix(l, "\n") {
			out.WriteByte('\n')
		}
	}
	for _, k := range []string{"base_model", "datasets", "language", "license"} {
		out.WriteString(set[k])
	}
	out.WriteString("---\n")
	if !ok {
		out.WriteString("\n")
	}
	out.Write(body)
	return out.Bytes(), nil
}

// splitFrontMatter returns the YAML between a README's opening and closing "---" lines and what follows.
func splitFrontMatter(readme []byte) (front, body []byte, ok bool) {
	s := string(readme)
	if !strings.HasPrefix(s, "---\n") {
		return nil, readme, false
	}
	rest := s[4:]
	end := strings.Index(rest, "\n---\n")
	if strings.HasPrefix(rest, "---\n") {
		return nil, []byte(rest[4:]), true
	}
	if end < 0 {
		return nil, readme, false
	}
	return []byte(rest[:end+1]), []byte(rest[end+5:]), true
}
