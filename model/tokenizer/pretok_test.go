package tokenizer

import (
	"reflect"
	"testing"
)

// TestGPT2ScannerMatchesReference checks the hand-written scanner for the GPT-2 pattern (whose \s+(?!\S) Go's
// regexp cannot express) against splits the reference ByteLevel pre-tokenizer (tokenizers 0.23.2) made.
func TestGPT2ScannerMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"Hello  world", []string{"Hello", " ", " world"}},
		{"a   b", []string{"a", "  ", " b"}},
		{"x \n y", []string{"x", " \n", " y"}},
		{"end  ", []string{"end", "  "}},
		{"  lead", []string{" ", " lead"}},
		{"don't I'm we'll they've she'd 'S 'x", []string{"don", "'t", " I", "'m", " we", "'ll", " they", "'ve", " she", "'d", " '", "S", " '", "x"}},
		{"a\t\tb", []string{"a", "\t", "\t", "b"}},
		{"e\u0301 ü", []string{"e", "\u0301", " ü"}},
		{"x\u00a0\u00a0y", []string{"x", "\u00a0", "\u00a0", "y"}},
		{"12 345abc", []string{"12", " 345", "abc"}},
		{"?! ...  ,", []string{"?!", " ...", " ", " ,"}},
		{"\n\n\nx", []string{"\n\n", "\n", "x"}},
		{"'re'''s", []string{"'re", "'''", "s"}},
		{"\u3000\u3000日本", []string{"\u3000", "\u3000", "日本"}},
		{"", nil},
	} {
		var got []string
		b := []byte(tc.in)
		for _, m := range gpt2Matches(b) {
			got = append(got, string(b[m[0]:m[1]]))
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("gpt2Matches(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSplitBehaviors checks tokenizers' five split behaviors on one pattern.
func TestSplitBehaviors(t *testing.T) {
	in := []byte("a--b-c-")
	pieces := func(beh splitBehavior, invert bool) []string {
		var nt normText
		nt.b = in
		nt.start, nt.end = make([]int32, len(in)), make([]int32, len(in))
		var out []string
		for _, p := range (patternSplit{find: charPattern(func(r rune) bool { return r == '-' }), behavior: beh, invert: invert}).split(nt, nil) {
			out = append(out, string(p.b))
		}
		return out
	}
	for _, tc := range []struct {
		beh    splitBehavior
		invert bool
		want   []string
	}{
		{behRemoved, false, []string{"a", "b", "c"}},
		{behIsolated, false, []string{"a", "-", "-", "b", "-", "c", "-"}},
		{behMergedWithPrevious, false, []string{"a-", "-", "b-", "c-"}},
		{behMergedWithNext, false, []string{"a", "-", "-b", "-c", "-"}},
		{behContiguous, false, []string{"a", "--", "b", "-", "c", "-"}},
		{behRemoved, true, []string{"-", "-", "-", "-"}},
	} {
		if got := pieces(tc.beh, tc.invert); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("behavior %d invert %v: %q, want %q", tc.beh, tc.invert, got, tc.want)
		}
	}
}
