package hfconfig

import (
	"encoding/json"
	"testing"
)

// TestUnknownKeysAndLabelsRoundTrip: a key the type does not model comes back, label2id is derived from
// id2label, and a modelled field wins over a kept key of the same name.
func TestUnknownKeysAndLabelsRoundTrip(t *testing.T) {
	type typed struct {
		HiddenSize int               `json:"hidden_size"`
		ID2Label   map[string]string `json:"id2label,omitempty"`
	}
	data := []byte(`{"hidden_size": 8, "torch_dtype": "float32", "sentence_transformers": {"activation_fn": "x"}, "label2id": {"a": 9}}`)
	extra, err := Extra(data, func(k string) bool { return k == "hidden_size" || k == "id2label" || k == "label2id" })
	if err != nil {
		t.Fatal(err)
	}
	if len(extra) != 2 || string(extra["torch_dtype"]) != `"float32"` {
		t.Fatalf("extra %v", extra)
	}
	extra["hidden_size"] = json.RawMessage("99")
	out, err := Marshal(typed{HiddenSize: 8, ID2Label: map[string]string{"0": "LABEL_0"}}, map[string]string{"0": "LABEL_0"}, extra)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"hidden_size":8,"id2label":{"0":"LABEL_0"},"label2id":{"LABEL_0":0},"sentence_transformers":{"activation_fn":"x"},"torch_dtype":"float32"}`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
}
