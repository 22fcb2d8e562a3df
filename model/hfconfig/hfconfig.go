// Package hfconfig is what every typed Hugging Face config.json here (model/bert's, model/modernbert's)
// shares: the keys the type does not model are kept on reading and written back, and label2id is derived from
// id2label, so a directory read and saved again keeps everything transformers put in it.
package hfconfig

import (
	"encoding/json"
	"fmt"
)

// Extra returns the keys of the config.json data that known does not claim, raw.
func Extra(data []byte, known func(key string) bool) (map[string]json.RawMessage, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	extra := map[string]json.RawMessage{}
	for k, v := range raw {
		if !known(k) {
			extra[k] = v
		}
	}
	return extra, nil
}

// Marshal writes config.json from typed (the modelled fields, marshalled as they are), label2id derived from
// id2label, and the extra keys the typed fields do not already hold; keys come out sorted.
func Marshal(typed any, id2label map[string]string, extra map[string]json.RawMessage) ([]byte, error) {
	known, err := json.Marshal(typed)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(known, &m); err != nil {
		return nil, err
	}
	if len(id2label) > 0 {
		l2i := map[string]int{}
		for k, v := range id2label {
			var i int
			fmt.Sscan(k, &i)
			l2i[v] = i
		}
		b, _ := json.Marshal(l2i)
		m["label2id"] = b
	}
	for k, v := range extra {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return json.Marshal(m) // map keys come out sorted
}
