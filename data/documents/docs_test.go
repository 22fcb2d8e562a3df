package documents

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/go-pdf/fpdf"
)

func TestApproxCounter(t *testing.T) {
	for text, want := range map[string]int{
		"":                                      0,
		"Hello, world! 2023 revenue increased.": 8, // Hello , world ! 2023 revenue increased(9 chars) .
		"internationalization":                  3, // 20 characters: ⌈20/9⌉
		"$1,234.5 (USD)":                        9, // $ 1 , 234 . 5 ( USD )
		"你好 ok":                                 3,
		"\uFEFFtab\tand\nnewline":               3,
	} {
		if got := (ApproxCounter{}).CountTokens(text); got != want {
			t.Errorf("CountTokens(%q) = %d, want %d", text, got, want)
		}
	}
}

func TestSentenceEnds(t *testing.T) {
	text := "Dr. Smith paid $5.20 for it. e.g. this is one. U.S. sales rose! Why? \"Yes.\" 3 more.\n\n# Heading\nBody text\n- item one\n- item two"
	ws := words(text, ApproxCounter{}.CountTokens)
	var ends []string
	for _, w := range ws {
		if w.sentEnd {
			ends = append(ends, text[w.start:w.end])
		}
	}
	// "Dr." (title), "e.g." (abbreviation, and the next word is lower case), "U.S." then "sales" (lower case)
	// are not ends; "it." before "e.g." is not either (next word lower case) — a known limit.
	want := []string{"one.", "rose!", "Why?", `"Yes."`, "more.", "Heading", "text", "one", "two"}
	if strings.Join(ends, "|") != strings.Join(want, "|") {
		t.Errorf("sentence ends %q, want %q", ends, want)
	}
}

// wordCounter counts whitespace words and adds 2 special tokens, like a tokenizer counting [CLS] and [SEP].
type wordCounter struct{}

func (wordCounter) CountTokens(s string) int { return len(strings.Fields(s)) + 2 }

func TestChunkHandComputed(t *testing.T) {
	// Six sentences of five tokens each by ApproxCounter: "Sa bb cc dd." = Sa bb cc dd . (the last word "dd."
	// holds 2 tokens).
	var sents []string
	for _, c := range "ABCDEF" {
		sents = append(sents, fmt.Sprintf("%c%c bb cc dd.", c, c))
	}
	doc := Document{Source: "s.txt", Text: strings.Join(sents, " ")}
	texts := func(cs []Chunk) []string {
		var out []string
		for _, c := range cs {
			if c.Text != doc.Text[c.Start:c.End] {
				t.Errorf("chunk %d text does not match its offsets", c.Index)
			}
			out = append(out, c.Text)
		}
		return out
	}
	j := func(idx ...int) string {
		var p []string
		for _, i := range idx {
			p = append(p, sents[i])
		}
		return strings.Join(p, " ")
	}
	for _, tc := range []struct {
		overlap int
		want    []string
	}{
		// 12 tokens hold two sentences (10) and two words of the third: cut back to the sentence end.
		{0, []string{j(0, 1), j(2, 3), j(4, 5)}},
		// Overlap 5 holds exactly one sentence: each chunk restarts at the previous chunk's last sentence.
		{5, []string{j(0, 1), j(1, 2), j(2, 3), j(3, 4), j(4, 5)}},
		// Overlap 3 holds no whole sentence: restart at the last words "cc dd." (3 tokens), mid-sentence.
		{3, []string{j(0, 1), "cc dd. " + j(2), "cc dd. " + j(3), "cc dd. " + j(4), "cc dd. " + j(5)}},
	} {
		cs, err := ChunkText(doc, ChunkConfig{Tokens: 12, Overlap: tc.overlap})
		if err != nil {
			t.Fatal(err)
		}
		if got := texts(cs); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("overlap %d:\n got %q\nwant %q", tc.overlap, got, tc.want)
		}
		if cs[0].ID != "s.txt#0" || cs[1].Index != 1 || cs[0].Tokens != 10 || cs[0].Source != "s.txt" {
			t.Errorf("chunk metadata: %+v", cs[0])
		}
	}
	// A counter that counts special tokens in every call chunks the same once CountTokens("") is subtracted.
	a, _ := ChunkText(doc, ChunkConfig{Tokens: 8, Overlap: 4, Counter: wordCounter{}})
	if got := texts(a); strings.Join(got, "|") != strings.Join([]string{j(0, 1), j(1, 2), j(2, 3), j(3, 4), j(4, 5)}, "|") {
		t.Errorf("word counter with special tokens: %q", got)
	}
	for _, bad := range []ChunkConfig{{Tokens: -1}, {Tokens: 10, Overlap: 10}, {Tokens: 10, Overlap: -1}} {
		if _, err := ChunkText(doc, bad); err == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
	if cs, _ := ChunkText(Document{Text: " \n "}, ChunkConfig{}); len(cs) != 0 {
		t.Errorf("blank document gave %d chunks", len(cs))
	}
}

func TestChunkInvariantsOnLongText(t *testing.T) {
	var sb strings.Builder
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&sb, "Sentence %d talks about item-%d and revenue of $%d.%02d million", i, i*7, i, i%100)
		if i%3 == 0 {
			sb.WriteString(" with an extra clause that keeps going, and going, for a while")
		}
		sb.WriteString(". ")
		if i%10 == 9 {
			sb.WriteString("\n\n")
		}
	}
	sb.WriteString("Supercalifragilisticexpialidocious" + strings.Repeat("x", 400)) // one word larger than a chunk
	doc := Document{Source: "long.md", Text: sb.String()}
	const size, overlap = 64, 16
	cs, err := ChunkText(doc, ChunkConfig{Tokens: size, Overlap: overlap})
	if err != nil {
		t.Fatal(err)
	}
	count := ApproxCounter{}.CountTokens
	covered := make([]bool, len(doc.Text))
	for i, c := range cs {
		if c.Text != doc.Text[c.Start:c.End] || c.Index != i {
			t.Fatalf("chunk %d offsets/index", i)
		}
		if got := count(c.Text); got != c.Tokens {
			t.Errorf("chunk %d: Tokens %d, recount %d", i, c.Tokens, got)
		}
		if c.Tokens > size && len(strings.Fields(c.Text)) > 1 {
			t.Errorf("chunk %d has %d tokens > %d", i, c.Tokens, size)
		}
		if i > 0 {
			prev := cs[i-1]
			if c.Start <= prev.Start {
				t.Fatalf("chunk %d does not advance", i)
			}
			if c.Start < prev.End {
				if ov := count(doc.Text[c.Start:prev.End]); ov > overlap {
					t.Errorf("chunks %d/%d overlap by %d tokens > %d", i-1, i, ov, overlap)
				}
			}
		}
		for k := c.Start; k < c.End; k++ {
			covered[k] = true
		}
	}
	for k, r := range doc.Text {
		if !covered[k] && !isSpace(r) {
			t.Fatalf("byte %d (%q) is in no chunk", k, doc.Text[k:min(k+20, len(doc.Text))])
		}
	}
	// Most chunks end at a sentence end.
	ends := 0
	for _, c := range cs {
		if strings.HasSuffix(c.Text, ".") {
			ends++
		}
	}
	if ends < len(cs)*3/4 {
		t.Errorf("only %d of %d chunks end at a sentence end", ends, len(cs))
	}
}

func writePDF(t *testing.T, path string) {
	t.Helper()
	p := fpdf.New("P", "mm", "A4", "")
	p.AddPage()
	p.SetFont("Helvetica", "", 12)
	p.Cell(0, 10, "Revenue grew 12% in 2023.")
	p.Ln(12)
	p.MultiCell(80, 6, "The company expanded its data center business, which now accounts for most of its sales and profit across all regions.", "", "L", false)
	p.AddPage()
	p.Cell(0, 10, "Second page text.")
	if err := p.OutputFileAndClose(path); err != nil {
		t.Fatal(err)
	}
}

// handPDF writes a minimal uncompressed PDF whose words are separated only by TJ kerning, as some producers do.
func handPDF() []byte {
	var b bytes.Buffer
	var offs []int
	obj := func(s string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), s)
	}
	b.WriteString("%PDF-1.4\n")
	content := "BT /F1 12 Tf 72 700 Td [(Hello)-300(kerned)-250(world)] TJ ET\nBT /F1 12 Tf 72 680 Td (Next line.) Tj ET"
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>")
	obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return b.Bytes()
}

func writeDOCX(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, _ := zw.Create("[Content_Types].xml")
	w.Write([]byte(`<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`))
	w, _ = zw.Create("word/document.xml")
	w.Write([]byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:r><w:t>Annual Report</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">Net income rose </w:t></w:r><w:r><w:t>8%.</w:t></w:r><w:r><w:delText>DELETED</w:delText></w:r></w:p>
<w:p><w:r><w:t>Col A</w:t><w:tab/><w:t>Col B</w:t><w:br/><w:t>Next &amp; last.</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Cell text.</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
</w:body></w:document>`))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestPDFAndDOCXText(t *testing.T) {
	dir := t.TempDir()
	writePDF(t, filepath.Join(dir, "r.pdf"))
	d, err := LoadFile(filepath.Join(dir, "r.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	// fpdf wraps the MultiCell paragraph at 80 mm; the wrapped lines come back as lines of one paragraph.
	para := strings.Join(strings.Fields(strings.Split(d.Text, "\n\n")[0]), " ")
	want := "Revenue grew 12% in 2023. The company expanded its data center business, which now accounts for most of its sales and profit across all regions."
	if para != want || !strings.HasSuffix(d.Text, "\n\nSecond page text.") || d.Format != "pdf" {
		t.Errorf("pdf text %q", d.Text)
	}
	if got, err := PDFText(bytes.NewReader(handPDF()), int64(len(handPDF()))); err != nil || got != "Hello kerned world\nNext line." {
		t.Errorf("kerned pdf: %q %v", got, err)
	}
	if _, err := PDFText(strings.NewReader("%PDF-1.4 garbage"), 16); err == nil {
		t.Error("garbage pdf: want an error")
	}

	writeDOCX(t, filepath.Join(dir, "r.docx"))
	d, err = LoadFile(filepath.Join(dir, "r.docx"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Annual Report\n\nNet income rose 8%.\n\nCol A\tCol B\nNext & last.\n\nCell text."; d.Text != want {
		t.Errorf("docx text %q, want %q", d.Text, want)
	}
}

func TestLoadFilesDirsAndGlobs(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "sub", "deeper"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, ".hidden"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "a.txt"), []byte("Plain text.\r\nSecond line."), 0o644))
	must(os.WriteFile(filepath.Join(dir, "sub", "b.md"), []byte("# Title\n\nBody."), 0o644))
	must(os.WriteFile(filepath.Join(dir, "sub", "deeper", "c.MD"), []byte("Deep."), 0o644))
	must(os.WriteFile(filepath.Join(dir, "image.png"), []byte{0x89, 'P', 'N', 'G'}, 0o644))
	must(os.WriteFile(filepath.Join(dir, ".hidden", "x.txt"), []byte("hidden"), 0o644))
	writePDF(t, filepath.Join(dir, "sub", "r.pdf"))
	writeDOCX(t, filepath.Join(dir, "r.docx"))

	names := func(ds []Document) string {
		var out []string
		for _, d := range ds {
			r, _ := filepath.Rel(dir, d.Source)
			out = append(out, filepath.ToSlash(r))
		}
		return strings.Join(out, " ")
	}
	ds, err := Load(dir)
	if err != nil || names(ds) != "a.txt r.docx sub/b.md sub/deeper/c.MD sub/r.pdf" {
		t.Errorf("Load(dir) = %s, %v", names(ds), err)
	}
	if ds[0].Text != "Plain text.\r\nSecond line." {
		t.Errorf(".txt must be the file's bytes: %q", ds[0].Text)
	}
	for pattern, want := range map[string]string{
		filepath.Join(dir, "**", "*.md"): "sub/b.md",
		filepath.Join(dir, "**", "*.MD"): "sub/deeper/c.MD",
		filepath.Join(dir, "**"):         "a.txt r.docx sub/b.md sub/deeper/c.MD sub/r.pdf",
		filepath.Join(dir, "*"):          "a.txt r.docx",
		filepath.Join(dir, "sub", "*.*"): "sub/b.md sub/r.pdf",
		filepath.Join(dir, "a.txt"):      "a.txt",
	} {
		ds, err := Load(pattern)
		if err != nil || names(ds) != want {
			t.Errorf("Load(%s) = %s, %v; want %s", pattern, names(ds), err, want)
		}
	}
	if _, err := Load(filepath.Join(dir, "image.png")); err == nil || !strings.Contains(err.Error(), "unsupported") {
		t.Errorf("unsupported file: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "nothing*.txt")); err == nil {
		t.Error("no match: want an error")
	}
	// A broken file does not lose the others.
	must(os.WriteFile(filepath.Join(dir, "broken.pdf"), []byte("not a pdf"), 0o644))
	ds, err = Load(dir)
	if len(ds) != 5 || err == nil || !strings.Contains(err.Error(), "broken.pdf") {
		t.Errorf("with a broken pdf: %d docs, %v", len(ds), err)
	}
	chunks, err := ChunkAll(ds, ChunkConfig{Tokens: 32})
	if err != nil || len(chunks) < 5 || chunks[0].Source != ds[0].Source {
		t.Errorf("ChunkAll: %d chunks, %v", len(chunks), err)
	}
}
