#!/usr/bin/env node
// Writes ragnb's tokenizer parity goldens from the reference implementation: Hugging Face `tokenizers`
// (the Rust library that transformers' fast tokenizers and sentence-transformers use), through its Node
// bindings pinned in package.json. Nothing here shares code with ragnb's Go tokenizer.
//
//   cd tools/tokgolden && npm ci && node gen.js
//
// Inputs: the real tokenizer.json files in ../shared/data/tokenizers (or $RAGNB_SHARED/data/tokenizers) and
// the financial QA CSV. Outputs, under model/tokenizer/testdata/:
//   golden_ids.json        ids, type ids and byte offsets for hand-picked sentences (single, pair, no special
//                          tokens; with and without truncation) for both tokenizer files
//   tiny_golden.json       two small tokenizers built and saved by the reference (added-token options,
//                          Bert/RobertaProcessing, a Sequence normalizer) with their encodings
//   financial_digest.json  SHA-256 digests of the ids of every financial QA row (contexts, questions and
//                          question/context pairs), in blocks of 500 rows, so the texts stay out of the repo
//   bert_unicode.json      how the reference BertNormalizer / BertPreTokenizer treat every Unicode code point
//                          (removed, mapped to space, punctuation, CJK, lowercase map, digest of accent stripping)
'use strict';

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const tk = require('tokenizers');

const repo = path.resolve(__dirname, '..', '..');
const shared = process.env.RAGNB_SHARED || path.resolve(repo, '..', 'shared');
const outDir = path.join(repo, 'model', 'tokenizer', 'testdata');

const tokenizerFiles = {
  'bert-base-uncased': path.join(shared, 'data', 'tokenizers', 'bert-base-uncased', 'tokenizer.json'),
  'all-minilm-l6-v2': path.join(shared, 'data', 'tokenizers', 'all-minilm-l6-v2', 'tokenizer.json'),
};

// ---------------------------------------------------------------------------------------------------------
// Hand-picked inputs. The long paragraphs are written for this file (not taken from any data set).

const para1 =
  'The Company designs, manufactures and markets smartphones, personal computers, tablets, wearables and ' +
  'accessories, and sells a variety of related services. Net sales decreased 3% or $11.0 billion during ' +
  '2023 compared to 2022, driven by lower net sales of Mac and iPhone, partially offset by higher net sales ' +
  'of Services. The weakness in foreign currencies relative to the U.S. dollar had an unfavorable ' +
  'year-over-year impact on all Products and Services net sales during 2023. Gross margin percentage ' +
  'increased to 44.1% from 43.3%, primarily due to cost savings and a different Products mix, partially ' +
  'offset by the weakness in foreign currencies and decreased leverage. ';
const para2 =
  'Risk Factors — Our operations and performance depend significantly on global and regional economic ' +
  'conditions and adverse economic conditions can materially adversely affect our business, results of ' +
  'operations and financial condition. The Company has international operations with sales outside the ' +
  'U.S. representing a majority of the Company’s total net sales. In addition, the Company’s global supply ' +
  'chain is large and complex and a majority of the Company’s supplier facilities, including manufacturing ' +
  'and assembly sites, are located outside the U.S. (see Item 1A, “Risk Factors,” of this Form 10-K). ';
const para3 =
  'Les résultats consolidés de l’exercice 2023 s’élèvent à 1 234,56 M€ ; la société prévoit une croissance ' +
  'de 5 à 7 % en 2024. Die Umsatzerlöse stiegen um 12,5 % auf 3,2 Mrd. €, während die Kosten für Forschung ' +
  'und Entwicklung (F&E) um 8 % zunahmen. 売上高は前年同期比で１２％増加し、営業利益は３，４５６億円となりました。' +
  '公司2023年实现营业收入人民币1,234.56亿元，同比增长8.9%。 ';
const long = para1 + para2 + para3 + para1; // about 600 tokens

const singles = [
  'Crème brûlée à São Paulo',
  'Hello, world! How are you?? I\'m fine... (really).',
  'Revenue was $1,234.56 million in FY2023, up 12.5% vs. 2022; see Form 10-K, Item 7.',
  '10-K 10-Q 8-K 3.14159 1e-9 -42 +7 #1 @user a_b c/d e\\f \'quoted\' "double" «guillemets» „low“ —dash– …ellipsis',
  '日本語のテキストと中文字符，还有한국어 텍스트.',
  'Emoji: 😀👍🏽 🇺🇸 ❤️ and ZWJ 👩‍💻 family 🥲',
  'tabs\tand\nnewlines\r\nand  multiple   spaces\u00a0nbsp\u3000ideographic\u2028line\u0085nel\u000bvt',
  'null\u0000byte, bell\u0007, zero\u200bwidth, soft\u00adhyphen, bidi\u202emark, replacement\ufffdchar, private\ue000use, bom\ufeff',
  'ÀÉÎÕÜ ñ ç ø å æ œ ß İstanbul Ǆ ﬁ ligature Ⅻ ① x² ½ ŉ',
  'Ελληνικά Русский العربية עברית हिन्दी ภาษาไทย Tiếng Việt',
  'Cre\u0300me bru\u0302le\u0301e a\u0301\u0316\u0300 decomposed',
  'Don\'t stop—it\'s O\'Reilly\'s café\'s naïve coöperation',
  'https://www.sec.gov/Archives/edgar/data/320193/000032019323000106/aapl-20230930.htm user@example.com',
  '[CLS] literal [SEP] and [MASK]ed [UNK] [PAD] [cls] x[SEP]y',
  'word ' + 'x'.repeat(100) + ' ' + 'y'.repeat(101) + ' ' + 'é'.repeat(101) + ' ' + 'ab'.repeat(60) + ' end',
  'foo☃bar snow☃ ☃ unaffordableness pneumonoultramicroscopicsilicovolcanoconiosis',
  'newer Unicode: \u0890x\u0891 \u{13430}hiero \u2e5d punct \u166d \u{111c9} \u1734 \ua7cb\u{10d50}',
  '',
  '   \t\n  ',
  '!!!???...',
  long,
];

const pairs = [
  ['What was the revenue growth?', 'Revenue was $1,234.56 million in FY2023, up 12.5% vs. 2022.'],
  ['Crème brûlée?', '日本語のテキスト and São Paulo.'],
  ['How did gross margin change in 2023 and why, according to the annual report?', para1],
  [para2, 'Short answer.'],
  [para1 + para2, para2 + para3],
  ['a b c d e f g h i j', 'k l m n o p q r s t u'],
  ['', 'only the second'],
  ['only the first', ''],
  [long, para2 + para3],
  ['unaffordableness '.repeat(6), 'x y z w v u t s r q'],
  ['x y z w v u t s r q', 'unaffordableness '.repeat(6)],
];

const singleMax = [0, 5, 16, 17, 128, 256, 512];
const pairMax = [0, 3, 8, 9, 16, 17, 64, 128, 512];
const noSpecialMax = [0, 1, 16];

// ---------------------------------------------------------------------------------------------------------

// byteOffsets maps code point offsets (what the bindings report) to UTF-8 byte offsets into s.
function byteOffsets(s) {
  const m = [0];
  let b = 0;
  for (const ch of s) {
    b += Buffer.byteLength(ch, 'utf8');
    m.push(b);
  }
  return m;
}

function record(enc, a, b, withOffsets) {
  const r = {ids: enc.getIds()};
  if (b !== null) r.type_ids = enc.getTypeIds();
  if (!withOffsets) return r;
  const ma = byteOffsets(a);
  const mb = b === null ? null : byteOffsets(b);
  const seq = enc.getSequenceIds();
  const special = enc.getSpecialTokensMask();
  r.offsets = enc.getOffsets().map(([s, e], i) => {
    if (special[i]) return [0, 0];
    const m = seq[i] === 1 ? mb : ma;
    return [m[s], m[e]];
  });
  return r;
}

function setMax(t, max) {
  t.disablePadding();
  if (max === 0) t.disableTruncation();
  else t.setTruncation(max, {strategy: 'LongestFirst', direction: 'right', stride: 0});
}

// goldenIDs encodes every case with both tokenizer files. Texts are stored once and referenced by index;
// byte offsets are kept for the untruncated cases only (truncation keeps a prefix of them); type ids for pairs
// only (they are all 0 otherwise). A case of the second file whose result equals the first file's same case
// is stored as {"same_as": "<first file>"} to keep the file small.
async function goldenIDs() {
  const texts = [];
  const index = (s) => {
    let i = texts.indexOf(s);
    if (i < 0) i = texts.push(s) - 1;
    return i;
  };
  const out = {
    generator: 'tools/tokgolden/gen.js with tokenizers@' + require('tokenizers/package.json').version,
    texts,
    tokenizers: {},
  };
  for (const [name, file] of Object.entries(tokenizerFiles)) {
    const t = tk.Tokenizer.fromFile(file);
    const cases = [];
    for (const a of singles) {
      for (const max of singleMax) {
        setMax(t, max);
        const e = await t.encode(a, null, {addSpecialTokens: true});
        cases.push({kind: 'single', a: index(a), max_len: max, ...record(e, a, null, max === 0)});
      }
      for (const max of noSpecialMax) {
        setMax(t, max);
        const e = await t.encode(a, null, {addSpecialTokens: false});
        cases.push({kind: 'nospecial', a: index(a), max_len: max, ...record(e, a, null, max === 0)});
      }
    }
    for (const [a, b] of pairs) {
      for (const max of pairMax) {
        setMax(t, max);
        const e = await t.encode(a, b, {addSpecialTokens: true});
        cases.push({kind: 'pair', a: index(a), b: index(b), max_len: max, ...record(e, a, b, max === 0)});
      }
    }
    const first = Object.keys(out.tokenizers)[0];
    if (first !== undefined) {
      out.tokenizers[first].forEach((c0, i) => {
        const c = cases[i];
        const body = (x) => JSON.stringify([x.ids, x.type_ids, x.offsets]);
        if (body(c0) === body(c)) cases[i] = {kind: c.kind, a: c.a, b: c.b, max_len: c.max_len, same_as: first};
      });
    }
    out.tokenizers[name] = cases;
  }
  return out;
}

// parseCSV is a small RFC 4180 reader (quoted fields, doubled quotes, newlines inside quotes).
function parseCSV(text) {
  const rows = [];
  let row = [];
  let field = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else q = false;
      } else field += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const blockSize = 500;

// digestBlocks hashes, per block of rows, the lines "id,id,...,id\n" (ids of one encoding per line).
function digestBlocks(idLists) {
  const blocks = [];
  let tokens = 0;
  for (let i = 0; i < idLists.length; i += blockSize) {
    const h = crypto.createHash('sha256');
    for (const ids of idLists.slice(i, i + blockSize)) {
      h.update(ids.join(',') + '\n');
      tokens += ids.length;
    }
    blocks.push(h.digest('hex'));
  }
  return {rows: idLists.length, tokens, blocks};
}

async function financialDigest() {
  const rows = parseCSV(fs.readFileSync(path.join(shared, 'data', 'financial-qa-10k', 'qa.csv'), 'utf8'));
  const header = rows.shift();
  const qi = header.indexOf('question');
  const ci = header.indexOf('context');
  const out = {
    generator: 'tools/tokgolden/gen.js with tokenizers@' + require('tokenizers/package.json').version,
    file: 'financial-qa-10k/qa.csv',
    block_size: blockSize,
    tokenizers: {},
  };
  for (const [name, file] of Object.entries(tokenizerFiles)) {
    const t = tk.Tokenizer.fromFile(file);
    const run = async (max, fn) => {
      setMax(t, max);
      const ids = [];
      for (const r of rows) ids.push((await fn(r)).getIds());
      return ids;
    };
    out.tokenizers[name] = {
      context: digestBlocks(await run(0, (r) => t.encode(r[ci], null, {addSpecialTokens: true}))),
      context_max256: digestBlocks(await run(256, (r) => t.encode(r[ci], null, {addSpecialTokens: true}))),
      question_nospecial: digestBlocks(await run(0, (r) => t.encode(r[qi], null, {addSpecialTokens: false}))),
      pair_max128: digestBlocks(await run(128, (r) => t.encode(r[qi], r[ci], {addSpecialTokens: true}))),
      pair_context_question_max64: digestBlocks(await run(64, (r) => t.encode(r[ci], r[qi], {addSpecialTokens: true}))),
    };
  }
  return out;
}

function ranges(list) {
  const r = [];
  for (const c of list) {
    if (r.length && r[r.length - 1][1] === c - 1) r[r.length - 1][1] = c;
    else r.push([c, c]);
  }
  return r;
}

// unicodeTable probes the reference BertNormalizer steps and BertPreTokenizer one code point at a time.
function unicodeTable() {
  const opt = (o) => tk.bertNormalizer({cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false, ...o});
  const clean = opt({cleanText: true});
  const chinese = opt({handleChineseChars: true});
  const strip = opt({stripAccents: true});
  const lower = opt({lowercase: true});
  const pre = tk.bertPreTokenizer();
  const removed = [], space = [], punct = [], split = [], cjk = [], stripEmpty = [];
  const lowerMap = {};
  const stripHash = crypto.createHash('sha256');
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const c = String.fromCodePoint(cp);
    const a = clean.normalizeString(c);
    if (a === '') removed.push(cp);
    else if (a === ' ' && c !== ' ') space.push(cp);
    else if (a !== c) throw new Error('clean_text changed U+' + cp.toString(16));
    const b = chinese.normalizeString(c);
    if (b === ' ' + c + ' ') cjk.push(cp);
    else if (b !== c) throw new Error('handle_chinese_chars changed U+' + cp.toString(16));
    const s = strip.normalizeString(c);
    if (s === '') stripEmpty.push(cp);
    if (s !== c) stripHash.update(cp + ':' + s + '\n');
    const l = lower.normalizeString(c);
    if (l !== c) lowerMap[cp] = l;
    const p = pre.preTokenizeString('a' + c + 'b');
    if (p.length === 3) punct.push(cp);
    else if (p.length === 2) split.push(cp);
    else if (p.length !== 1) throw new Error('pre-tokenizer split U+' + cp.toString(16) + ' oddly');
  }
  return {
    generator: 'tools/tokgolden/gen.js with tokenizers@' + require('tokenizers/package.json').version,
    note: 'code point ranges [lo, hi]; surrogates skipped. strip_sha256 hashes "cp:output\\n" for every code point ' +
      'that accent stripping (NFD + drop nonspacing marks) changes, in code point order.',
    clean_removed: ranges(removed),
    clean_to_space: ranges(space),
    chinese: ranges(cjk),
    pretokenizer_whitespace: ranges(split),
    pretokenizer_punctuation: ranges(punct),
    strip_to_empty: ranges(stripEmpty),
    strip_sha256: stripHash.digest('hex'),
    lowercase: lowerMap,
  };
}

// tinyTokenizers builds small tokenizers with the reference library itself (covering what the real files do
// not: added tokens with single_word / lstrip / rstrip / normalized, BertProcessing, RobertaProcessing, a
// Sequence normalizer, WhitespaceSplit), saves them as tokenizer.json text and records their encodings.
async function tinyTokenizers() {
  const os = require('os');
  const words = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '<s>', '</s>', 'hello', 'world', '##s', 'un', '##aff',
    '##able', ',', '!', 'ab', 'c', '##ab', 'rocks', 'e', 'cafe', 'creme', '##e', 'new', '-', 'york', 'x', '##x', 'i', '##̇'];
  const vocab = {};
  words.forEach((w, i) => (vocab[w] = i));
  const build = (kind) => {
    const t = new tk.Tokenizer(tk.WordPiece.init(vocab, {unkToken: '[UNK]', maxInputCharsPerWord: 12}));
    if (kind === 'bert') {
      t.setNormalizer(tk.bertNormalizer({cleanText: true, handleChineseChars: true, lowercase: true}));
      t.setPreTokenizer(tk.bertPreTokenizer());
      t.setPostProcessor(tk.bertProcessing(['[SEP]', 3], ['[CLS]', 2]));
      t.addSpecialTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
      t.addAddedTokens([
        new tk.AddedToken('<x>', true, {leftStrip: true, rightStrip: true, normalized: false}),
        new tk.AddedToken('ab', false, {singleWord: true, normalized: false}),
        new tk.AddedToken('NEW-YORK', false, {normalized: true}),
      ]);
    } else {
      t.setNormalizer(tk.sequenceNormalizer([tk.nfdNormalizer(), tk.lowercase(), tk.stripAccentsNormalizer()]));
      t.setPreTokenizer(tk.sequencePreTokenizer([tk.whitespaceSplitPreTokenizer()]));
      t.setPostProcessor(tk.robertaProcessing(['</s>', 6], ['<s>', 5]));
      t.addSpecialTokens(['<s>', '</s>', '[UNK]', '[PAD]']);
    }
    const file = path.join(os.tmpdir(), 'ragnb-tiny-' + kind + '.json');
    t.save(file);
    return {json: fs.readFileSync(file, 'utf8'), tok: tk.Tokenizer.fromFile(file)};
  };
  const texts = [
    'Hello, WORLDS!', 'hello  <x>  world', 'cab ab abc', 'New-York rocks', 'NEW-YORKrocks', 'unaffable unaffabx',
    'Café CRÈME crème İ', 'hello[SEP]world [sep] <x>', 'x'.repeat(13) + ' ' + 'x'.repeat(12), '', ' \t ',
  ];
  const out = [];
  for (const kind of ['bert', 'seq']) {
    const {json, tok} = build(kind);
    const cases = [];
    for (const a of texts) {
      for (const [addSpecial, max] of [[true, 0], [false, 0], [true, 4]]) {
        setMax(tok, max);
        const e = await tok.encode(a, null, {addSpecialTokens: addSpecial});
        cases.push({kind: addSpecial ? 'single' : 'nospecial', a, max_len: max, ...record(e, a, null, true)});
      }
      setMax(tok, 0);
      const e = await tok.encode(a, 'rocks, hello', {addSpecialTokens: true});
      cases.push({kind: 'pair', a, b: 'rocks, hello', max_len: 0, ...record(e, a, 'rocks, hello', true)});
    }
    out.push({name: kind, tokenizer_json: json, cases});
  }
  return {generator: 'tools/tokgolden/gen.js with tokenizers@' + require('tokenizers/package.json').version, tokenizers: out};
}

// trainedGolden encodes every hand-picked sentence with the WordPiece tokenizer that ragnb's own trainer wrote
// (model/tokenizer/testdata/trained/tokenizer.json): it proves the reference loads our file and agrees with our ids.
async function trainedGolden() {
  const file = path.join(outDir, 'trained', 'tokenizer.json');
  const t = tk.Tokenizer.fromFile(file);
  setMax(t, 0);
  const cases = [];
  for (const text of singles) {
    const e = await t.encode(text, null, {addSpecialTokens: true});
    cases.push({text, ids: e.getIds()});
  }
  return {generator: 'tools/tokgolden/gen.js with tokenizers@' + require('tokenizers/package.json').version, cases};
}

// ---------------------------------------------------------------------------------------------------------
// golden_all: every shared tokenizer.json kind (WordPiece, byte-level BPE in both merge serializations,
// Unigram with a Precompiled charsmap) on hand-written texts in many scripts plus a sample of financial QA
// rows. Rows are stored as {row, col, sha256} (the first 16 hex digits of the text's SHA-256) so the shared
// data stays out of the repository; the Go test reads them from the CSV and checks the hash.

const allTokenizers = ['bert-base-uncased', 'all-minilm-l6-v2', 'bert-base-chinese', 'modernbert', 'roberta-base',
  'all-distilroberta-v1', 't5-small', 'marian-unigram'];

const moreSingles = [
  'Le conseil d’administration a approuvé un dividende de 0,85 € par action ; l’exercice s’achève le 31 décembre.',
  'Die Gesellschaft erwartet für das Geschäftsjahr 2024 ein Umsatzwachstum im niedrigen einstelligen Prozentbereich.',
  'Şirketin net satışları %12 artarak 4,5 milyar TL’ye ulaştı; İstanbul ve Iğdır şubeleri ıslak imzayla onaylandı.',
  'Η εταιρεία ανακοίνωσε αύξηση των εσόδων κατά 8% το ΤΡΊΤΟ τρίμηνο. ΣΊΣΥΦΟΣ σίσυφος',
  'Выручка компании выросла на 15% и составила 1,2 млрд рублей. ЁЛКА ёлка',
  'ارتفعت إيرادات الشركة بنسبة ١٢٪ لتصل إلى ٣٫٤ مليار ريال.',
  'कंपनी का राजस्व 12% बढ़कर ₹4,500 करोड़ हो गया। क्षत्रिय ज्ञान',
  '公司2023年实现营业收入人民币1,234.56亿元，同比增长8.9%。董事会建议派发现金股利。',
  '当社の連結売上高は前年同期比１２％増の３，４５６億円となりました。ｶﾀｶﾅ ﾊﾟﾝ',
  '회사의 매출은 전년 대비 12% 증가한 3조 4천억 원을 기록했습니다.',
  'ＦＵＬＬ－ＷＩＤＴＨ ＡＢＣ　１２３！？ and ㍿ ㌔ ㈱ ﬁnancial ﬂow ﬀ ﬃ ĳ',
  'Emoji ZWJ: 👨‍👩‍👧‍👦 🏳️‍🌈 🧑🏿‍🚀 👍🏼 🇫🇷🇩🇪 1️⃣ #️⃣ ☺︎ ☺️',
  'Accents: résumé naïve façade Ångström Øresund Šťastný Łódź Nguyễn Đức',
  'spaces:  two   three    four     five      six       seven        eight',
  '\t\ttabs\tinside\t\t\tand\n\n\nnewlines\r\n\r\nend \n ',
  '   leading and trailing   ',
  'ctrl:\u0001\u0002\u001b[31mred\u001b[0m \u007f\u0080\u009f end',
  '<s>hello</s> <mask> x<mask>y <pad> <unk> [MASK] [CLS]x[SEP] </s></s> <extra_id_0> <extra_id_99>',
  'mask lstrip:   <mask>  and   [MASK]   here',
  "I'm you're we've they'll he'd it's 'S 'T 'tis",
  'CamelCaseWord snake_case_word kebab-case-word UPPER lower 123abc abc123 1.5e10 0x1F',
  'numbers 1234567890 ١٢٣ ٤٥٦ ①②③ Ⅳ ½ ¾ ²³',
  'a',
  ' ',
  '\u00a0\u2009\u202f thin spaces \u3000 ideographic',
  'x'.repeat(300),
  'supercalifragilisticexpialidocious antidisestablishmentarianism floccinaucinihilipilification',
  para3.repeat(8),
];

const morePairs = [
  ['Quelle est la croissance du chiffre d’affaires ?', 'Le chiffre d’affaires a augmenté de 12 % pour atteindre 3,2 Md€.'],
  ['売上高はいくらですか？', '売上高は３，４５６億円でした。'],
  ['<mask> is here', 'and <s> there </s>'],
  ['  spaced  ', '\ttabbed\t'],
];

async function goldenAll() {
  const rows = parseCSV(fs.readFileSync(path.join(shared, 'data', 'financial-qa-10k', 'qa.csv'), 'utf8'));
  const header = rows.shift();
  const col = {question: header.indexOf('question'), context: header.indexOf('context')};
  const texts = [];
  const values = [];
  const index = (v, ref) => {
    let i = values.indexOf(v);
    if (i < 0) {
      i = values.push(v) - 1;
      texts.push(ref === undefined ? v : ref);
    }
    return i;
  };
  const rowRef = (r, c) => {
    const v = rows[r][col[c]];
    const h = crypto.createHash('sha256').update(v, 'utf8').digest('hex').slice(0, 16);
    return [v, {row: r, col: c, sha256: h}];
  };
  const rowTexts = [];
  for (let r = 0; r < rows.length; r += 350) {
    rowTexts.push(rowRef(r, 'context'));
    if (r % 700 === 0) rowTexts.push(rowRef(r, 'question'));
  }
  const singleTexts = [...singles, ...moreSingles];
  const pairTexts = [...pairs, ...morePairs];
  const out = {
    generator: 'tools/tokgolden/gen.js with tokenizers@' + require('tokenizers/package.json').version,
    file: 'financial-qa-10k/qa.csv',
    texts,
    tokenizers: {},
  };
  const rec = (kind, a, b, max, e, padded) => {
    const c = {k: kind, a, max, ids: e.getIds()};
    if (b !== null) c.b = b;
    const types = e.getTypeIds();
    if (types.some((x) => x !== 0)) c.types = types;
    if (padded) c.mask = e.getAttentionMask();
    return c;
  };
  for (const name of allTokenizers) {
    const file = path.join(shared, 'data', 'tokenizers', name, 'tokenizer.json');
    const cases = [];
    // as configured by the file (its truncation and padding, if any)
    const conf = tk.Tokenizer.fromFile(file);
    const t = tk.Tokenizer.fromFile(file);
    const padded = JSON.parse(fs.readFileSync(file, 'utf8')).padding !== null;
    const all = [...singleTexts.map((v) => [v]), ...rowTexts];
    for (const [v, ref] of all) {
      const a = index(v, ref);
      cases.push(rec('file', a, null, 0, await conf.encode(v, null, {addSpecialTokens: true}), padded));
      for (const max of [0, 16, 128]) {
        setMax(t, max);
        cases.push(rec('single', a, null, max, await t.encode(v, null, {addSpecialTokens: true}), false));
      }
      setMax(t, 0);
      cases.push(rec('nospecial', a, null, 0, await t.encode(v, null, {addSpecialTokens: false}), false));
    }
    const pairList = pairTexts.map(([x, y]) => [[x], [y]]);
    for (let i = 0; i + 1 < rowTexts.length; i += 3) pairList.push([rowTexts[i + 1], rowTexts[i]]);
    for (const [[x, xr], [y, yr]] of pairList) {
      const a = index(x, xr);
      const b = index(y, yr);
      cases.push(rec('file', a, b, 0, await conf.encode(x, y, {addSpecialTokens: true}), padded));
      for (const max of [0, 9, 64]) {
        setMax(t, max);
        cases.push(rec('pair', a, b, max, await t.encode(x, y, {addSpecialTokens: true}), false));
      }
    }
    out.tokenizers[name] = cases;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// variants: components the shared files do not use, on the shared files with some sections replaced (the
// patch is stored; the Go test applies the same one) and on small hand-written tokenizers stored whole.

const addedTok = (id, content, o = {}) => ({id, content, single_word: false, lstrip: false, rstrip: false, normalized: false,
  special: true, ...o});

function tinyBPE(extra) {
  const merges = [['t', '##h'], ['th', '##e</w>'], ['##i', '##n'], ['##in', '##g</w>'], ['a', '##n'], ['an', '##d</w>'],
    ['e', '##r'], ['##e', '##r</w>'], ['s', '##t'], ['st', '##r'], ['##o', '##n'], ['##on', '##g</w>'], ['##l', '##l'],
    ['h', '##e'], ['he', '##ll'], ['hell', '##o</w>'], ['##a', '##b'], ['a', '##b']];
  const vocab = {'<unk>': 0, '<s>': 1, '</s>': 2, '<mask>': 3};
  const add = (w) => { if (!(w in vocab)) vocab[w] = Object.keys(vocab).length; };
  for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789.,!?\'') {
    add(c); add('##' + c); add(c + '</w>'); add('##' + c + '</w>');
  }
  for (const b of [0xc3, 0xa9, 0xa8]) add('<0x' + b.toString(16).toUpperCase() + '>');
  for (const [a, b] of merges) add(a + b.slice(2));
  add('hello');
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [addedTok(0, '<unk>'), addedTok(1, '<s>'), addedTok(2, '</s>'), addedTok(3, '<mask>', {lstrip: true, rstrip: true}),
      addedTok(Object.keys(vocab).length, 'ab', {single_word: true, normalized: true, special: false})],
    normalizer: {type: 'Lowercase'},
    pre_tokenizer: {type: 'Whitespace'},
    post_processor: {type: 'BertProcessing', sep: ['</s>', 2], cls: ['<s>', 1]},
    decoder: null,
    model: {type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: '##', end_of_word_suffix: '</w>',
      fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges, ...extra},
  };
}

function tinyUnigram() {
  const pieces = [['<unk>', 0], ['<s>', 0], ['</s>', 0], ['\u2581', -2], ['a', -3], ['b', -3], ['c', -3.5], ['ab', -2.5],
    ['\u2581ab', -4], ['abc', -4.5], ['\u2581c', -3], ['bc', -3.2], ['<0xC3>', -6], ['<0xA9>', -6], ['x', -3], ['\u2581x', -3.1]];
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [addedTok(0, '<unk>'), addedTok(1, '<s>'), addedTok(2, '</s>')],
    normalizer: {type: 'Sequence', normalizers: [{type: 'NFKC'}, {type: 'Strip', strip_left: true, strip_right: true},
      {type: 'Replace', pattern: {String: '  '}, content: ' '}]},
    pre_tokenizer: {type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: true},
    post_processor: {type: 'TemplateProcessing',
      single: [{Sequence: {id: 'A', type_id: 0}}, {SpecialToken: {id: '</s>', type_id: 0}}],
      pair: [{SpecialToken: {id: '<s>', type_id: 0}}, {Sequence: {id: 'A', type_id: 0}}, {SpecialToken: {id: '</s>', type_id: 0}},
        {Sequence: {id: 'B', type_id: 1}}, {SpecialToken: {id: '</s>', type_id: 1}}],
      special_tokens: {'<s>': {id: '<s>', ids: [1], tokens: ['<s>']}, '</s>': {id: '</s>', ids: [2], tokens: ['</s>']}}},
    decoder: null,
    model: {type: 'Unigram', unk_id: 0, vocab: pieces, byte_fallback: true},
  };
}

function tinyWordLevel() {
  const vocab = {'[UNK]': 0, 'the': 1, 'cat': 2, 'sat': 3, '.': 4, ',': 5, 'on': 6, 'mat': 7};
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: [addedTok(0, '[UNK]')],
    normalizer: {type: 'Sequence', normalizers: [{type: 'NFD'}, {type: 'StripAccents'}, {type: 'Lowercase'}]},
    pre_tokenizer: {type: 'Sequence', pretokenizers: [{type: 'WhitespaceSplit'}, {type: 'Punctuation', behavior: 'Isolated'}]},
    post_processor: {type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true},
    decoder: null,
    model: {type: 'WordLevel', vocab, unk_token: '[UNK]'},
  };
}

const gpt2Regex = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

const variantList = [
  {name: 'roberta-split-left', base: 'roberta-base', patch: {
    normalizer: {type: 'NFKC'},
    pre_tokenizer: {type: 'Sequence', pretokenizers: [{type: 'Split', pattern: {Regex: gpt2Regex}, behavior: 'Isolated', invert: false},
      {type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: false}]},
    truncation: {direction: 'Left', max_length: 24, strategy: 'LongestFirst', stride: 0}}},
  {name: 'roberta-digits-only-first', base: 'roberta-base', patch: {
    normalizer: {type: 'Sequence', normalizers: [{type: 'NFKD'}, {type: 'StripAccents'}, {type: 'Lowercase'},
      {type: 'Replace', pattern: {Regex: '[0-9]{3,}'}, content: '#'}, {type: 'Prepend', prepend: '~'}]},
    pre_tokenizer: {type: 'Sequence', pretokenizers: [{type: 'Whitespace'}, {type: 'Digits', individual_digits: true},
      {type: 'Punctuation', behavior: 'Contiguous'}, {type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false}]},
    post_processor: {type: 'Sequence', processors: [{type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true},
      {type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false}]},
    truncation: {direction: 'Right', max_length: 20, strategy: 'OnlyFirst', stride: 0}}},
  {name: 'roberta-split-behaviors', base: 'roberta-base', patch: {
    pre_tokenizer: {type: 'Sequence', pretokenizers: [
      {type: 'Split', pattern: {String: ','}, behavior: 'MergedWithPrevious', invert: false},
      {type: 'Split', pattern: {Regex: '\\s+'}, behavior: 'MergedWithNext', invert: false},
      {type: 'Split', pattern: {Regex: '[aeiou]+'}, behavior: 'Removed', invert: true},
      {type: 'Split', pattern: {String: 'x'}, behavior: 'Contiguous', invert: false},
      {type: 'Digits', individual_digits: false},
      {type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false}]}}},
  {name: 't5-metaspace-first-only-second', base: 't5-small', patch: {
    pre_tokenizer: {type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: true},
    truncation: {direction: 'Left', max_length: 20, strategy: 'OnlySecond', stride: 0}}},
  {name: 't5-metaspace-never-nosplit', base: 't5-small', patch: {
    pre_tokenizer: {type: 'Sequence', pretokenizers: [{type: 'WhitespaceSplit'},
      {type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'never', split: false}]}}},
  {name: 'modernbert-no-prefix-regex', base: 'modernbert', patch: {
    pre_tokenizer: {type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true},
    padding: {strategy: 'BatchLongest', direction: 'Left', pad_to_multiple_of: 16, pad_id: 50283, pad_type_id: 0, pad_token: '[PAD]'}}},
  {name: 'roberta-unicode-regex-classes', base: 'roberta-base', patch: {
    pre_tokenizer: {type: 'Sequence', pretokenizers: [
      {type: 'Split', pattern: {Regex: '\\s+'}, behavior: 'Removed', invert: false},
      {type: 'Split', pattern: {Regex: '\\d'}, behavior: 'Isolated', invert: false},
      {type: 'Split', pattern: {Regex: '[^\\w\\s]+'}, behavior: 'Isolated', invert: false},
      {type: 'Split', pattern: {Regex: '\\W'}, behavior: 'MergedWithPrevious', invert: false},
      {type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false}]}}},
  {name: 'tiny-bpe', json: tinyBPE({})},
  {name: 'tiny-bpe-ignore-merges-nofuse', json: tinyBPE({ignore_merges: true, fuse_unk: false, byte_fallback: false})},
  {name: 'tiny-unigram', json: tinyUnigram()},
  {name: 'tiny-wordlevel', json: tinyWordLevel()},
];

const variantTexts = [
  'the thing and the string hello HELLO hellos', 'Thé strîng ünd the þing', 'abc ab, cab ab! <mask>ab xab',
  'the  cat,sat  on the mat. Ｔｈｅ ＣＡＴ', 'année 12345 and 1,234,567.89 ½ ②', "don't it's we'll  x   y\tz\n",
  '  ab abc  c x ab é ü  ', 'xx,yy,,zz  aaa eee iou', 'Crème brûlée à São Paulo ﬁ', 'a', '', '日本語 中文 한국어 👍🏽',
  'hello <mask> world <s> the </s>', 'nbsp\u00a0here\u3000ideo\u2009thin\u0085nel ١٢٣ x²  é_ü-ß ‿ a\u200db',
  'one two three four five six seven eight nine ten eleven twelve thirteen fourteen',
];

async function variants() {
  const out = {generator: 'tools/tokgolden/gen.js with tokenizers@' + require('tokenizers/package.json').version, variants: []};
  for (const v of variantList) {
    let obj = v.json;
    if (v.base) {
      obj = JSON.parse(fs.readFileSync(path.join(shared, 'data', 'tokenizers', v.base, 'tokenizer.json'), 'utf8'));
      Object.assign(obj, v.patch);
    }
    const t = tk.Tokenizer.fromString(JSON.stringify(obj));
    const cases = [];
    const padded = obj.padding !== null && obj.padding !== undefined;
    const enc = async (a, b, special) => {
      let e;
      try {
        e = await t.encode(a, b, {addSpecialTokens: special});
      } catch (err) {
        // only_first / only_second truncation fails when the text it names is too short
        return {a, b, nospecial: !special || undefined, error: String(err.message || err)};
      }
      const c = {a, ids: e.getIds()};
      if (b !== null) c.b = b;
      if (!special) c.nospecial = true;
      const types = e.getTypeIds();
      if (types.some((x) => x !== 0)) c.types = types;
      if (padded) c.mask = e.getAttentionMask();
      return c;
    };
    for (let i = 0; i < variantTexts.length; i++) {
      const a = variantTexts[i];
      cases.push(await enc(a, null, true));
      cases.push(await enc(a, null, false));
      cases.push(await enc(a, variantTexts[(i + 3) % variantTexts.length], true));
    }
    out.variants.push(v.base ? {name: v.name, base: v.base, patch: v.patch, cases} : {name: v.name, tokenizer: v.json, cases});
  }
  return out;
}

// financial_digest_all: digests (as financial_digest) of every financial QA row for the six tokenizer files
// that financial_digest does not cover: contexts with special tokens, and question/context pairs at 128.
async function financialDigestAll() {
  const rows = parseCSV(fs.readFileSync(path.join(shared, 'data', 'financial-qa-10k', 'qa.csv'), 'utf8'));
  const header = rows.shift();
  const qi = header.indexOf('question');
  const ci = header.indexOf('context');
  const out = {
    generator: 'tools/tokgolden/gen.js with tokenizers@' + require('tokenizers/package.json').version,
    file: 'financial-qa-10k/qa.csv',
    block_size: blockSize,
    tokenizers: {},
  };
  for (const name of allTokenizers.filter((n) => !(n in tokenizerFiles))) {
    const t = tk.Tokenizer.fromFile(path.join(shared, 'data', 'tokenizers', name, 'tokenizer.json'));
    const run = async (max, fn) => {
      setMax(t, max);
      const ids = [];
      for (const r of rows) ids.push((await fn(r)).getIds());
      return ids;
    };
    out.tokenizers[name] = {
      context: digestBlocks(await run(0, (r) => t.encode(r[ci], null, {addSpecialTokens: true}))),
      pair_max128: digestBlocks(await run(128, (r) => t.encode(r[qi], r[ci], {addSpecialTokens: true}))),
    };
  }
  return out;
}

function write(name, obj) {
  const p = path.join(outDir, name);
  fs.writeFileSync(p, JSON.stringify(obj) + '\n');
  console.log('wrote', path.relative(repo, p), fs.statSync(p).size, 'bytes');
}

// Each output is written by a child process with a time limit: the Node bindings were seen to hang
// (idle, no CPU) about once in five runs, so a stage that times out is retried once.
const stages = {
  golden_ids: goldenIDs,
  tiny_golden: tinyTokenizers,
  financial_digest: financialDigest,
  bert_unicode: unicodeTable,
  trained_golden: trainedGolden,
  golden_all: goldenAll,
  variants: variants,
  financial_digest_all: financialDigestAll,
};

(async () => {
  fs.mkdirSync(outDir, {recursive: true});
  const stage = process.argv[2];
  if (stage) {
    if (!stages[stage]) throw new Error('unknown stage ' + stage);
    write(stage + '.json', await stages[stage]());
    return;
  }
  const {spawnSync} = require('child_process');
  for (const name of Object.keys(stages)) {
    let ok = false;
    for (let attempt = 1; attempt <= 2 && !ok; attempt++) {
      const r = spawnSync(process.execPath, [__filename, name], {stdio: 'inherit', timeout: 300000});
      ok = r.status === 0;
      if (!ok) console.error(`stage ${name} failed (attempt ${attempt}): status ${r.status} signal ${r.signal}`);
    }
    if (!ok) process.exit(1);
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
