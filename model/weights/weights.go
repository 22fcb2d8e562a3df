// Package weights maps Hugging Face tensor names to GoMLX Store variables and moves tensors between the two.
// The map is purely mechanical: the HF name "encoder.layer.0.attention.self.query.weight" is the variable
// "weight" in the scope "<root>/encoder/layer/0/attention/self/query". Loading a checkpoint is therefore
// "set these variables", saving is "read them back", and a trainer's Store holds variables whose paths say
// which HF tensor they are. It owns nothing about any particular architecture or file format.
package weights

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/ragnb/ragnb/model/safetensors"
)

// VariablePath is the Store path of the HF tensor name under the scope root ("/" or e.g. "/model").
func VariablePath(root, name string) string {
	root = strings.TrimSuffix(root, "/")
	if !strings.HasPrefix(root, "/") {
		root = "/" + root
	}
	return strings.TrimSuffix(root, "/") + "/" + strings.ReplaceAll(name, ".", "/")
}

// Name is the HF tensor name of a Store path under root; ok is false when the path is not under root.
func Name(root, path string) (name string, ok bool) {
	prefix := strings.TrimSuffix(VariablePath(root, "x"), "x")
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok || rest == "" {
		return "", false
	}
	return strings.ReplaceAll(rest, "/", "."), true
}

// ToStore creates (or overwrites) one variable per tensor under root. A variable that already exists with
// another shape is an error naming the tensor.
func ToStore(store *model.Store, root string, ts []safetensors.Float32Tensor) error {
	for _, t := range ts {
		path := VariablePath(root, t.Name)
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		if n != len(t.Data) {
			return fmt.Errorf("tensor %q: shape %v has %d elements, data has %d", t.Name, t.Shape, n, len(t.Data))
		}
		value := tensors.FromFlatDataAndDimensions(slices.Clone(t.Data), t.Shape...)
		if v := store.GetVariable(path); v != nil {
			if !slices.Equal(v.Shape().Dimensions, t.Shape) {
				return fmt.Errorf("tensor %q: variable %s has shape %v, tensor has %v", t.Name, path, v.Shape().Dimensions, t.Shape)
			}
			if err := v.SetValue(value); err != nil {
				return fmt.Errorf("tensor %q: set %s: %w", t.Name, path, err)
			}
			continue
		}
		store.VariableWithValue(path, value)
	}
	return nil
}

// FromStore reads the named tensors back from the variables under root, as float32. A missing variable is an
// error naming the tensor.
func FromStore(store *model.Store, root string, names []string) ([]safetensors.Float32Tensor, error) {
	out := make([]safetensors.Float32Tensor, 0, len(names))
	for _, name := range names {
		path := VariablePath(root, name)
		v := store.GetVariable(path)
		if v == nil {
			return nil, fmt.Errorf("tensor %q: no variable %s in the store", name, path)
		}
		value, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("tensor %q: variable %s: %w", name, path, err)
		}
		data, err := tensors.CopyFlatData[float32](value)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: variable %s: %w", name, path, err)
		}
		out = append(out, safetensors.Float32Tensor{Name: name, Shape: slices.Clone(value.Shape().Dimensions), Data: data})
	}
	return out, nil
}

// Names lists the HF names of all variables under root, in Store creation order.
func Names(store *model.Store, root string) []string {
	var out []string
	for v := range store.IterVariables() {
		if name, ok := Name(root, v.Path()); ok {
			out = append(out, name)
		}
	}
	return out
}
