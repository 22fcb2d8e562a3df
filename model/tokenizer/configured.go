package tokenizer

// TruncationStrategy is how a pair is cut to the maximum length.
type TruncationStrategy uint8

const (
	LongestFirst TruncationStrategy = iota // tokens come off the longer text first
	OnlyFirst                              // only the first text is cut
	OnlySecond                             // only the second text is cut
)

// Truncation is the truncation section of tokenizer.json.
type Truncation struct {
	MaxLength int
	Strategy  TruncationStrategy
	Left      bool // direction Left: tokens come off the start of a text
	Stride    int  // always 0 (overflowing windows are not produced; other strides are refused on loading)
}

// Padding is the padding section of tokenizer.json.
type Padding struct {
	Fixed      int  // pad every row to this length (strategy Fixed); 0: to the longest row (BatchLongest)
	MultipleOf int  // round the length up to a multiple of this (0: no rounding)
	Left       bool // direction Left: padding goes before the tokens
	PadID      int32
	PadTypeID  int32
	PadToken   string
}

// Truncation returns tokenizer.json's truncation settings; ok is false when the file has none.
func (t *Tokenizer) Truncation() (tr Truncation, ok bool) {
	if t.truncation == nil {
		return Truncation{}, false
	}
	return *t.truncation, true
}

// Padding returns tokenizer.json's padding settings; ok is false when the file has none.
func (t *Tokenizer) Padding() (p Padding, ok bool) {
	if t.padding == nil {
		return Padding{}, false
	}
	return *t.padding, true
}

// EncodeConfigured encodes text as the tokenizer.json file says when used alone (as tokenizers'
// Tokenizer.encode does with the file's settings): truncated to the file's max_length when it has a
// truncation section, else not at all.
func (t *Tokenizer) EncodeConfigured(text string) Encoding {
	return t.Encode(text, t.fileMaxLen())
}

// EncodePairConfigured is EncodeConfigured for a pair.
func (t *Tokenizer) EncodePairConfigured(a, b string) Encoding {
	return t.EncodePair(a, b, t.fileMaxLen())
}

func (t *Tokenizer) fileMaxLen() int {
	if t.truncation == nil {
		return 0
	}
	return t.truncation.MaxLength
}

// PadConfigured pads encs as tokenizer.json's padding section says: to the fixed length or the longest
// encoding, rounded up to pad_to_multiple_of, on the right or the left, with pad_id and pad_type_id. As in
// tokenizers, an encoding longer than a fixed length is not cut; the batch then takes its length. Without
// a padding section it is Pad(encs, 0).
func (t *Tokenizer) PadConfigured(encs []Encoding) Batch {
	if t.padding == nil {
		return t.Pad(encs, 0)
	}
	p := t.padding
	n := p.Fixed
	if n == 0 {
		for _, e := range encs {
			n = max(n, len(e.IDs))
		}
	}
	if p.MultipleOf > 0 && n%p.MultipleOf != 0 {
		n += p.MultipleOf - n%p.MultipleOf
	}
	for _, e := range encs {
		n = max(n, len(e.IDs))
	}
	b := Batch{N: len(encs), Len: n,
		IDs:     make([]int32, len(encs)*n),
		TypeIDs: make([]int32, len(encs)*n),
		Mask:    make([]int32, len(encs)*n),
	}
	for i, e := range encs {
		ids, typ, mask := b.Row(i)
		at := 0
		if p.Left {
			at = n - len(e.IDs)
		}
		for j := range ids {
			ids[j], typ[j] = p.PadID, p.PadTypeID
		}
		copy(ids[at:], e.IDs)
		copy(typ[at:], e.TypeIDs)
		for j := range e.IDs {
			mask[at+j] = 1
			if j < len(e.Mask) {
				mask[at+j] = e.Mask[j]
			}
		}
	}
	return b
}
