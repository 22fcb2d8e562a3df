package tokenizer

import (
	"sort"
	"unicode"
)

// Character classes as Hugging Face tokenizers (Rust) defines them for BertNormalizer and BertPreTokenizer.
//
// tokenizers takes "control" (Cc, Cf, Co), "punctuation" (P*) and "nonspacing mark" (Mn) from the
// unicode_categories 0.1.1 crate, whose tables predate Unicode 9, while whitespace, lowercasing and NFD
// come from current Unicode. Go's unicode package is at Unicode 15 (unicode.Version), so the classes
// below are Go's tables corrected by the code points whose category is different in those old tables:
// characters added later (not in the old tables) and the few that changed category since. The lists
// were derived by probing the reference one code point at a time; TestUnicodeClassesMatchReference
// checks every code point against the probe (testdata/bert_unicode.json) so a Go Unicode upgrade that
// shifts anything is caught.

type runeRange struct{ lo, hi rune }

func inRanges(rs []runeRange, c rune) bool {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].hi >= c })
	return i < len(rs) && rs[i].lo <= c
}

// Format characters (Cf) that the old tables do not know, so BertNormalizer keeps them.
var laterFormat = []runeRange{{0x0890, 0x0891}, {0x08E2, 0x08E2}, {0x110CD, 0x110CD}, {0x13430, 0x1343F}}

// Punctuation that the old tables do not know (not split off by BertPreTokenizer).
var laterPunct = []runeRange{
	{0x061D, 0x061D}, {0x09FD, 0x09FD}, {0x0A76, 0x0A76}, {0x0C77, 0x0C77}, {0x0C84, 0x0C84}, {0x1B7D, 0x1B7E},
	{0x2E43, 0x2E4F}, {0x2E52, 0x2E5D}, {0x10EAD, 0x10EAD}, {0x10F55, 0x10F59}, {0x10F86, 0x10F89}, {0x1144B, 0x1144F},
	{0x1145A, 0x1145B}, {0x1145D, 0x1145D}, {0x11660, 0x1166C}, {0x116B9, 0x116B9}, {0x1183B, 0x1183B}, {0x11944, 0x11946},
	{0x119E2, 0x119E2}, {0x11A3F, 0x11A46}, {0x11A9A, 0x11A9C}, {0x11A9E, 0x11AA2}, {0x11B00, 0x11B09}, {0x11C41, 0x11C45},
	{0x11C70, 0x11C71}, {0x11EF7, 0x11EF8}, {0x11F43, 0x11F4F}, {0x11FFF, 0x11FFF}, {0x12FF1, 0x12FF2}, {0x16E97, 0x16E9A},
	{0x16FE2, 0x16FE2}, {0x1E95E, 0x1E95F},
}

// Punctuation in the old tables that is no longer punctuation in Unicode 15.
var formerPunct = []runeRange{{0x166D, 0x166D}, {0x111C9, 0x111C9}}

// Nonspacing marks (Mn) that the old tables do not know (kept by accent stripping).
var laterNonspacing = []runeRange{
	{0x07FD, 0x07FD}, {0x0898, 0x089F}, {0x08CA, 0x08E1}, {0x09FE, 0x09FE}, {0x0AFA, 0x0AFF}, {0x0B55, 0x0B55},
	{0x0C04, 0x0C04}, {0x0C3C, 0x0C3C}, {0x0D00, 0x0D00}, {0x0D3B, 0x0D3C}, {0x0D81, 0x0D81}, {0x0EBA, 0x0EBA},
	{0x0ECE, 0x0ECE}, {0x180F, 0x180F}, {0x1885, 0x1886}, {0x1ABF, 0x1ACE}, {0x1DF6, 0x1DFB}, {0xA82C, 0xA82C},
	{0xA8C5, 0xA8C5}, {0xA8FF, 0xA8FF}, {0xA9BD, 0xA9BD}, {0x10D24, 0x10D27}, {0x10EAB, 0x10EAC}, {0x10EFD, 0x10EFF},
	{0x10F46, 0x10F50}, {0x10F82, 0x10F85}, {0x11070, 0x11070}, {0x11073, 0x11074}, {0x110C2, 0x110C2}, {0x111C9, 0x111C9},
	{0x111CF, 0x111CF}, {0x1123E, 0x1123E}, {0x11241, 0x11241}, {0x1133B, 0x1133B}, {0x11438, 0x1143F}, {0x11442, 0x11444},
	{0x11446, 0x11446}, {0x1145E, 0x1145E}, {0x1182F, 0x11837}, {0x11839, 0x1183A}, {0x1193B, 0x1193C}, {0x1193E, 0x1193E},
	{0x11943, 0x11943}, {0x119D4, 0x119D7}, {0x119DA, 0x119DB}, {0x119E0, 0x119E0}, {0x11A01, 0x11A0A}, {0x11A33, 0x11A38},
	{0x11A3B, 0x11A3E}, {0x11A47, 0x11A47}, {0x11A51, 0x11A56}, {0x11A59, 0x11A5B}, {0x11A8A, 0x11A96}, {0x11A98, 0x11A99},
	{0x11C30, 0x11C36}, {0x11C38, 0x11C3D}, {0x11C3F, 0x11C3F}, {0x11C92, 0x11CA7}, {0x11CAA, 0x11CB0}, {0x11CB2, 0x11CB3},
	{0x11CB5, 0x11CB6}, {0x11D31, 0x11D36}, {0x11D3A, 0x11D3A}, {0x11D3C, 0x11D3D}, {0x11D3F, 0x11D45}, {0x11D47, 0x11D47},
	{0x11D90, 0x11D91}, {0x11D95, 0x11D95}, {0x11D97, 0x11D97}, {0x11EF3, 0x11EF4}, {0x11F00, 0x11F01}, {0x11F36, 0x11F3A},
	{0x11F40, 0x11F40}, {0x11F42, 0x11F42}, {0x13440, 0x13440}, {0x13447, 0x13455}, {0x16F4F, 0x16F4F}, {0x16FE4, 0x16FE4},
	{0x1CF00, 0x1CF2D}, {0x1CF30, 0x1CF46}, {0x1E000, 0x1E006}, {0x1E008, 0x1E018}, {0x1E01B, 0x1E021}, {0x1E023, 0x1E024},
	{0x1E026, 0x1E02A}, {0x1E08F, 0x1E08F}, {0x1E130, 0x1E136}, {0x1E2AE, 0x1E2AE}, {0x1E2EC, 0x1E2EF}, {0x1E4EC, 0x1E4EF},
	{0x1E944, 0x1E94A},
}

// U+1734 HANUNOO SIGN PAMUDPOD was Mn in the old tables (Mc since Unicode 14).
var formerNonspacing = []runeRange{{0x1734, 0x1734}}

// isOther is unicode_categories' is_other: Cc, Cf or Co in the old tables.
func isOther(c rune) bool {
	if c < 0x80 {
		return c < 0x20 || c == 0x7F
	}
	return unicode.In(c, unicode.Cc, unicode.Cf, unicode.Co) && !inRanges(laterFormat, c)
}

// isBertControl reports whether BertNormalizer's clean_text drops c.
func isBertControl(c rune) bool {
	switch c {
	case '\t', '\n', '\r':
		return false
	case 0, 0xFFFD:
		return true
	}
	return isOther(c)
}

// isWhitespace is Rust's char::is_whitespace (the Unicode White_Space property).
func isWhitespace(c rune) bool {
	if c < 0x80 {
		return c == ' ' || (c >= '\t' && c <= '\r')
	}
	return unicode.Is(unicode.White_Space, c)
}

// isBertPunct is BertPreTokenizer's punctuation: ASCII punctuation or Unicode P* in the old tables.
func isBertPunct(c rune) bool {
	if c < 0x80 {
		return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~')
	}
	if unicode.IsPunct(c) {
		return !inRanges(laterPunct, c)
	}
	return inRanges(formerPunct, c)
}

// isNonspacingMark is unicode_categories' is_mark_nonspacing (Mn in the old tables).
func isNonspacingMark(c rune) bool {
	if c < 0x300 {
		return false
	}
	if unicode.Is(unicode.Mn, c) {
		return !inRanges(laterNonspacing, c)
	}
	return inRanges(formerNonspacing, c)
}

// isChineseChar is BertNormalizer's CJK test (the ranges of the original BERT code).
func isChineseChar(c rune) bool {
	return (c >= 0x4E00 && c <= 0x9FFF) ||
		(c >= 0x3400 && c <= 0x4DBF) ||
		(c >= 0x20000 && c <= 0x2A6DF) ||
		(c >= 0x2A700 && c <= 0x2B73F) ||
		(c >= 0x2B740 && c <= 0x2B81F) ||
		(c >= 0x2B920 && c <= 0x2CEAF) ||
		(c >= 0xF900 && c <= 0xFAFF) ||
		(c >= 0x2F800 && c <= 0x2FA1F)
}

// Lowercase mappings that Rust's char::to_lowercase (Unicode 16) has and Go's simple unicode.ToLower
// (Unicode 15) lacks. U+0130 is the one unconditional multi-character lowercase mapping.
var laterLower = map[rune]rune{
	0x1C89: 0x1C8A, 0xA7CB: 0x0264, 0xA7CC: 0xA7CD, 0xA7CE: 0xA7CF, 0xA7D2: 0xA7D3, 0xA7D4: 0xA7D5,
	0xA7DA: 0xA7DB, 0xA7DC: 0x019B,
}

// appendLower appends the lowercase of c (one or two runes) to dst.
func appendLower(dst []rune, c rune) []rune {
	if c < 0x80 {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		return append(dst, c)
	}
	switch {
	case c == 0x0130:
		return append(dst, 'i', 0x0307)
	case c >= 0x10D50 && c <= 0x10D65: // Garay capitals
		return append(dst, c+0x20)
	case c >= 0x16EA0 && c <= 0x16EB8: // Beria Erfe capitals
		return append(dst, c+0x1B)
	}
	if l, ok := laterLower[c]; ok {
		return append(dst, l)
	}
	return append(dst, unicode.ToLower(c))
}

// isWordChar approximates the regex class \w (Unicode) used by added tokens marked single_word.
func isWordChar(c rune) bool {
	return c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c) ||
		unicode.In(c, unicode.M, unicode.Nl, unicode.Pc, unicode.Other_Alphabetic) || c == 0x200C || c == 0x200D
}
