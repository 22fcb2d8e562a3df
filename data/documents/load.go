// Package documents turns source documents into passages: it loads .txt, .md, the text layer of .pdf and the body of
// .docx files (a file, a directory walked recursively, or a glob with **), and cuts their text into chunks of
// about N tokens with an overlap, preferring sentence ends, keeping each chunk's source and byte offsets. It
// does not generate questions (synth) or embed anything; token counting is behind the TokenCounter interface
// so the real WordPiece tokenizer plugs in.
package documents

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"
)

// Document is the text of one source file.
type Document struct {
	// Source is the path the document was loaded from.
	Source string `json:"source"`
	// Format is "txt", "md", "pdf" or "docx".
	Format string `json:"format"`
	// Text is the document's text. For .txt and .md it is the file's bytes unchanged (so chunk offsets are
	// file offsets); for .pdf and .docx it is the extracted text, which chunk offsets index.
	Text string `json:"text"`
}

// Format is the format name of path by its extension ("txt", "md", "pdf", "docx"), or "" when Load does not
// read it.
func Format(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".txt", ".text":
		return "txt"
	case ".md", ".markdown":
		return "md"
	case ".pdf":
		return "pdf"
	case ".docx":
		return "docx"
	}
	return ""
}

// Supported reports whether Load reads files with path's extension.
func Supported(path string) bool { return Format(path) != "" }

// Load reads every document that pattern names: a file (of a supported format, else an error), a directory
// (walked recursively; files of other formats and hidden entries are passed over), or a glob (filepath.Match
// syntax, plus ** for any number of directories; matches of other formats are passed over). Documents come
// in path order. A file that cannot be read does not stop the others: Load returns every document it could
// read together with an error naming each failure. No match at all is an error.
func Load(pattern string) ([]Document, error) {
	paths, err := Files(pattern)
	if err != nil {
		return nil, err
	}
	var docs []Document
	var errs []error
	for _, p := range paths {
		d, err := LoadFile(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		docs = append(docs, d)
	}
	return docs, errors.Join(errs...)
}

// Files lists the supported files that pattern names, as Load reads them.
func Files(pattern string) ([]string, error) {
	if st, err := os.Stat(pattern); err == nil {
		if !st.IsDir() {
			if !Supported(pattern) {
				return nil, fmt.Errorf("%s: unsupported format %q (want .txt, .md, .pdf or .docx)", pattern, filepath.Ext(pattern))
			}
			return []string{pattern}, nil
		}
		var out []string
		err := filepath.WalkDir(pattern, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != pattern && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() && Supported(p) {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walk %s: %w", pattern, err)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: no .txt, .md, .pdf or .docx files", pattern)
		}
		sort.Strings(out)
		return out, nil
	}
	matches, err := glob(pattern)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && !st.IsDir() && Supported(m) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no such file, and no supported file matches it", pattern)
	}
	sort.Strings(out)
	return out, nil
}

// glob is filepath.Glob with ** matching zero or more directories (hidden ones excepted).
func glob(pattern string) ([]string, error) {
	if !strings.Contains(pattern, "**") {
		m, err := filepath.Glob(pattern)
		if err != nil {
			return nil, fmt.Errorf("bad pattern %s: %w", pattern, err)
		}
		return m, nil
	}
	pattern = filepath.Clean(pattern)
	parts := strings.Split(filepath.ToSlash(pattern), "/")
	// The walk starts at the longest prefix without wildcards.
	root := 0
	for root < len(parts) && !strings.ContainsAny(parts[root], "*?[\\") {
		root++
	}
	base := strings.Join(parts[:root], "/")
	if base == "" {
		base = "."
		if strings.HasPrefix(pattern, "/") {
			base = "/"
		}
	}
	rest := parts[root:]
	for _, p := range rest {
		if p != "**" {
			if _, err := filepath.Match(p, ""); err != nil {
				return nil, fmt.Errorf("bad pattern %s: %w", pattern, err)
			}
		}
	}
	var out []string
	err := filepath.WalkDir(filepath.FromSlash(base), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(filepath.FromSlash(base), p)
		if rel == "." {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") { // like a shell glob, ** passes over hidden entries
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if matchSegments(rest, strings.Split(filepath.ToSlash(rel), "/")) {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

func matchSegments(pat, segs []string) bool {
	if len(pat) == 0 {
		return len(segs) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(segs); i++ {
			if matchSegments(pat[1:], segs[i:]) {
				return true
			}
		}
		return false
	}
	if len(segs) == 0 {
		return false
	}
	ok, _ := filepath.Match(pat[0], segs[0])
	return ok && matchSegments(pat[1:], segs[1:])
}

// LoadFile reads one document by its extension.
func LoadFile(path string) (Document, error) {
	format := Format(path)
	if format == "" {
		return Document{}, fmt.Errorf("%s: unsupported format %q (want .txt, .md, .pdf or .docx)", path, filepath.Ext(path))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Document{}, err
	}
	d := Document{Source: path, Format: format}
	switch format {
	case "txt", "md":
		if !utf8.Valid(b) {
			// Keep byte offsets meaningful: invalid bytes become U+FFFD only when there are any.
			b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
		}
		d.Text = string(b)
	case "pdf":
		d.Text, err = PDFText(bytes.NewReader(b), int64(len(b)))
	case "docx":
		d.Text, err = DOCXText(bytes.NewReader(b), int64(len(b)))
	}
	if err != nil {
		return Document{}, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}
