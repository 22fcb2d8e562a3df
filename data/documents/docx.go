package documents

import (
	"archive/zip"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

const wordNS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

// DOCXText extracts the body text of a .docx (word/document.xml): paragraphs separated by a blank line, tabs
// and line breaks kept, deleted tracked changes and field codes left out, table cells as their paragraphs.
// Headers, footers, footnotes and comments live in other parts and are not read.
func DOCXText(r io.ReaderAt, size int64) (string, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return "", fmt.Errorf("read docx (not a zip archive): %w", err)
	}
	var doc *zip.File
	for _, f := range zr.File {
		if f.Name == "word/document.xml" {
			doc = f
		}
	}
	if doc == nil {
		return "", fmt.Errorf("read docx: no word/document.xml")
	}
	rc, err := doc.Open()
	if err != nil {
		return "", fmt.Errorf("read docx: %w", err)
	}
	defer rc.Close()
	dec := xml.NewDecoder(rc)
	var paras []string
	var cur strings.Builder
	inText, skip := false, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("read docx word/document.xml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != wordNS {
				continue
			}
			switch t.Name.Local {
			case "t":
				inText = true
			case "delText", "instrText":
				skip++
			case "tab":
				cur.WriteByte('\t')
			case "br", "cr":
				cur.WriteByte('\n')
			}
		case xml.EndElement:
			if t.Name.Space != wordNS {
				continue
			}
			switch t.Name.Local {
			case "t":
				inText = false
			case "delText", "instrText":
				skip--
			case "p":
				if s := strings.TrimSpace(cur.String()); s != "" {
					paras = append(paras, s)
				}
				cur.Reset()
			}
		case xml.CharData:
			if inText && skip == 0 {
				cur.Write(t)
			}
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		paras = append(paras, s)
	}
	return strings.Join(paras, "\n\n"), nil
}
