package weights

import (
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/ragnb/ragnb/model/safetensors"
)

func TestNameMap(t *testing.T) {
	for _, c := range []struct{ root, name, path string }{
		{"/", "encoder.layer.0.attention.self.query.weight", "/encoder/layer/0/attention/self/query/weight"},
		{"", "embedding.weight", "/embedding/weight"},
		{"/student", "classifier.bias", "/student/classifier/bias"},
		{"student/", "classifier.bias", "/student/classifier/bias"},
	} {
		if got := VariablePath(c.root, c.name); got != c.path {
			t.Errorf("VariablePath(%q, %q) = %q, want %q", c.root, c.name, got, c.path)
		}
		if got, ok := Name(c.root, c.path); !ok || got != c.name {
			t.Errorf("Name(%q, %q) = %q %v, want %q", c.root, c.path, got, ok, c.name)
		}
	}
	if _, ok := Name("/student", "/teacher/classifier/bias"); ok {
		t.Error("a path outside root must not map")
	}
}

func TestStoreRoundTrip(t *testing.T) {
	store := model.NewStore()
	ts := []safetensors.Float32Tensor{
		{Name: "a.weight", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
		{Name: "a.bias", Shape: []int{2}, Data: []float32{-1, 1}},
	}
	if err := ToStore(store, "/m", ts); err != nil {
		t.Fatal(err)
	}
	if got := Names(store, "/m"); !slices.Equal(got, []string{"a.weight", "a.bias"}) {
		t.Errorf("Names = %v", got)
	}
	back, err := FromStore(store, "/m", []string{"a.bias", "a.weight"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back[1].Data, ts[0].Data) || !slices.Equal(back[1].Shape, []int{2, 3}) || back[0].Name != "a.bias" {
		t.Errorf("round trip: %+v", back)
	}
	// Overwriting keeps the variable and takes the new value; a new shape is refused.
	ts[1].Data = []float32{7, 8}
	if err := ToStore(store, "/m", ts[1:]); err != nil {
		t.Fatal(err)
	}
	back, _ = FromStore(store, "/m", []string{"a.bias"})
	if !slices.Equal(back[0].Data, []float32{7, 8}) {
		t.Errorf("overwrite: %v", back[0].Data)
	}
	err = ToStore(store, "/m", []safetensors.Float32Tensor{{Name: "a.bias", Shape: []int{3}, Data: []float32{1, 2, 3}}})
	if err == nil || !strings.Contains(err.Error(), `"a.bias"`) {
		t.Errorf("shape change: %v", err)
	}
	if _, err := FromStore(store, "/m", []string{"nope.weight"}); err == nil || !strings.Contains(err.Error(), `"nope.weight"`) {
		t.Errorf("missing variable: %v", err)
	}
}
