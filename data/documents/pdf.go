package documents

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/ledongthuc/pdf"
)

// PDFText extracts the text layer of a PDF, page by page in content-stream order, pages separated by a blank
// line. Scanned pages without a text layer give no text (there is no OCR). Words are separated where the
// content stream shows a space, moves the text position right, or kerns a TJ array by more than 0.2 em
// (producers that never write space characters); lines end where the position moves vertically.
func PDFText(r io.ReaderAt, size int64) (text string, err error) {
	defer func() {
		if p := recover(); p != nil { // the parser panics on malformed streams
			err = fmt.Errorf("read pdf: %v", p)
		}
	}()
	rd, err := pdf.NewReader(r, size)
	if err != nil {
		return "", fmt.Errorf("read pdf: %w", err)
	}
	fonts := map[string]*pdf.Font{}
	var pages []string
	for i := 1; i <= rd.NumPage(); i++ {
		p := rd.Page(i)
		t, err := pageText(p, fonts)
		if err != nil {
			return "", fmt.Errorf("pdf page %d: %w", i, err)
		}
		pages = append(pages, strings.TrimSpace(t))
	}
	return strings.Join(pages, "\n\n"), nil
}

// textBuf accumulates extracted text, never doubling separators.
type textBuf struct{ strings.Builder }

func (b *textBuf) sep(s string) {
	if b.Len() == 0 {
		return
	}
	str := b.String()
	last := str[len(str)-1]
	if last == '\n' || (s == " " && last == ' ') {
		return
	}
	if s == "\n" && last == ' ' {
		// replace a trailing space by the newline
		cur := strings.TrimRight(str, " ")
		b.Reset()
		b.WriteString(cur)
	}
	b.WriteString(s)
}

func pageText(p pdf.Page, fonts map[string]*pdf.Font) (string, error) {
	if p.V.IsNull() || p.V.Key("Contents").Kind() == pdf.Null {
		return "", nil
	}
	for _, name := range p.Fonts() {
		if _, ok := fonts[name]; !ok {
			f := p.Font(name)
			fonts[name] = &f
		}
	}
	var b textBuf
	var enc pdf.TextEncoding
	decode := func(raw string) string {
		if enc == nil {
			return raw
		}
		return enc.Decode(raw)
	}
	lastY, haveY := 0.0, false
	moveTo := func(y float64) {
		if haveY && math.Abs(y-lastY) > 0.01 {
			b.sep("\n")
		} else {
			b.sep(" ")
		}
		lastY, haveY = y, true
	}
	pdf.Interpret(p.V.Key("Contents"), func(stk *pdf.Stack, op string) {
		n := stk.Len()
		args := make([]pdf.Value, n)
		for i := n - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		switch op {
		case "BT":
			b.sep(" ")
		case "Tf":
			if len(args) == 2 {
				if f, ok := fonts[args[0].Name()]; ok {
					enc = f.Encoder()
				} else {
					enc = nil
				}
			}
		case "Td", "TD":
			if len(args) == 2 {
				if ty := args[1].Float64(); ty != 0 {
					b.sep("\n")
					lastY += ty
				} else if args[0].Float64() > 0 {
					b.sep(" ")
				}
			}
		case "Tm":
			if len(args) == 6 {
				moveTo(args[5].Float64())
			}
		case "T*":
			b.sep("\n")
		case "'", "\"":
			b.sep("\n")
			if len(args) > 0 {
				b.WriteString(decode(args[len(args)-1].RawString()))
			}
		case "Tj":
			if len(args) == 1 {
				b.WriteString(decode(args[0].RawString()))
			}
		case "TJ":
			if len(args) == 1 {
				a := args[0]
				for i := 0; i < a.Len(); i++ {
					x := a.Index(i)
					if x.Kind() == pdf.String {
						b.WriteString(decode(x.RawString()))
					} else if x.Float64() < -200 { // thousandths of an em: a gap wider than 0.2 em is a space
						b.sep(" ")
					}
				}
			}
		}
	})
	return b.String(), nil
}
