package workflow

import (
	"context"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/model/modeldir"
)

// The init steps keep the keys the prelude used before the workflow existed, so models (and the trainings
// keyed on their IDs) cached then are found now: the key hashes are compared with keys spelt the old way.
func TestInitModelKeysAreThePreludesOldKeys(t *testing.T) {
	in := InitModelInput{CorpusID: "corpus-hash", CorpusColumn: "positive"}
	o := DefaultInitModelOptions(ArchStatic).Resolve(true)
	got, err := staticKey(in, o)
	if err != nil {
		t.Fatal(err)
	}
	old := cache.Key{Step: "static-model", Version: 1, Inputs: []string{"corpus-hash"}, Params: map[string]any{
		"column": "positive", "dim": 256, "vocab_size": 30000, "init": "idf", "seed": 42, "tokenizer": false,
		"vocab": "all text columns"}}
	sameKey(t, got, old)

	// The prelude keyed a random BERT on its own BertOptions struct, after filling its defaults.
	type oldBertOptions struct {
		Layers, Hidden, Heads, Intermediate, MaxLength int
		Pooling                                        string
		Seed                                           int
	}
	bo := DefaultInitModelOptions(ArchCrossEncoder).Resolve(false)
	got, err = architectures()[ArchCrossEncoder].key(InitModelInput{Tokenizer: "dir", TokenizerID: "vocab-id"}, bo)
	if err != nil {
		t.Fatal(err)
	}
	sameKey(t, got, cache.Key{Step: "init-cross-encoder", Version: 1, Inputs: []string{"vocab-id"},
		Params: oldBertOptions{Layers: 2, Hidden: 128, Heads: 4, Intermediate: 512, MaxLength: 256, Pooling: "mean", Seed: 42}})

	// A set Normalize is keyed: it changes the model.
	bo.Bert.Normalize = true
	norm, _ := architectures()[ArchCrossEncoder].key(InitModelInput{Tokenizer: "dir", TokenizerID: "vocab-id"}, bo)
	if h1, _ := norm.Hash(); h1 == mustHash(t, got) {
		t.Error("Normalize is not part of the key")
	}
}

func sameKey(t *testing.T, got, want cache.Key) {
	t.Helper()
	if g, w := mustHash(t, got), mustHash(t, want); g != w {
		gp, _ := got.CanonicalParams()
		wp, _ := want.CanonicalParams()
		t.Errorf("key %s changed:\n got %s %v\nwant %s %v", got.Step, gp, got.Inputs, wp, want.Inputs)
	}
}

func mustHash(t *testing.T, k cache.Key) string {
	t.Helper()
	h, err := k.Hash()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// The auto init is IDF with a corpus and random without; an explicit IDF without a corpus is refused.
func TestInitModelStaticInitFollowsTheCorpus(t *testing.T) {
	o := DefaultInitModelOptions(ArchStatic)
	if got := o.Resolve(true).Static.Init; got != encoder.InitIDF {
		t.Errorf("with a corpus: init %q", got)
	}
	if got := o.Resolve(false).Static.Init; got != encoder.InitRandom {
		t.Errorf("without a corpus: init %q", got)
	}
	o.Static.Init = encoder.InitIDF
	if err := o.Check(InitModelInput{Tokenizer: "t.json"}); err == nil {
		t.Error("idf without a corpus was accepted")
	}
	if err := (InitModelOptions{Arch: "gpt"}).Check(InitModelInput{Tokenizer: "t.json"}); err == nil {
		t.Error("an unknown architecture was accepted")
	}
}

// With a cache InitModel memoises (the second call is a hit with the same ID); every architecture of the
// table draws a model of its kind and shape.
func TestInitModelDrawsEveryArchitecture(t *testing.T) {
	tok := sharedtest.BertTokenizer(t)
	st, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env := Env{Cache: st}
	want := map[string]modeldir.Kind{ArchStatic: modeldir.Static, ArchBert: modeldir.BiEncoder, ArchCrossEncoder: modeldir.CrossEncoder,
		ArchXLMRoberta: modeldir.BiEncoder, ArchModernBERT: modeldir.BiEncoder}
	for _, arch := range Architectures() {
		o := DefaultInitModelOptions(arch)
		o.Static.Dim, o.Bert.Layers, o.Bert.Hidden, o.Bert.Heads = 16, 1, 16, 2
		in := InitModelInput{Tokenizer: tok, Corpus: []string{"revenue grew", "net income fell"}, CorpusID: "c"}
		first, err := InitModel(context.Background(), env, in, o)
		if err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		again, err := InitModel(context.Background(), env, in, o)
		if err != nil || !again.Cached || again.ID != first.ID || first.Cached {
			t.Errorf("%s: second draw cached %v id %s vs %s (%v)", arch, again.Cached, again.ID, first.ID, err)
		}
		l, err := modeldir.Read(first.Dir)
		if err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		if l.Kind != want[arch] {
			t.Errorf("%s: kind %s, want %s", arch, l.Kind, want[arch])
		}
		if arch != ArchStatic {
			inter := 0
			if l.ModernBERT != nil {
				inter = l.ModernBERT.IntermediateSize
			} else {
				inter = l.Config.IntermediateSize
			}
			if h := l.HiddenSize(); h != 16 || inter != 64 {
				t.Errorf("%s: hidden %d, intermediate %d (want 16, 4 × 16)", arch, h, inter)
			}
		}
		if name := map[string]string{ArchXLMRoberta: "XLM-RoBERTa", ArchModernBERT: "ModernBERT"}[arch]; name != "" && !strings.Contains(first.What, name) {
			t.Errorf("%s: described as %q", arch, first.What)
		}
	}
}
