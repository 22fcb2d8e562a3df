package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Key identifies one step's result: the same key always means the same result, so a stored entry under it can
// stand in for running the step again.
//
// Params is encoded as canonical JSON (object keys sorted at every level), so a struct and a map with the same
// fields give the same key. Params must never hold secrets (API keys, tokens): tag such struct fields
// `json:"-"`, which leaves them out. As a safety net, Hash refuses params with an object key that names a
// secret (api_key, apikey, token, access_token, secret, password, authorization, …).
type Key struct {
	// Step names the step ("mine", "train-matryoshka"): letters, digits, '-', '_' and '.', starting with a
	// letter or digit. It is also the entry's folder name.
	Step string
	// Version is bumped when the step's code changes what it produces, so old entries stop matching.
	Version int
	// Inputs are the content hashes of the step's input artifacts (HashFile, HashDir, HashBytes, or the
	// Hash of the key that produced a cached input). Order matters: it is the order of the step's inputs.
	Inputs []string
	// Params are the step's parameters; see the type's doc comment about secrets.
	Params any
}

var stepName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// secretNames are object keys refused in params, compared after lower-casing and removing '_' and '-'.
var secretNames = map[string]bool{
	"apikey": true, "token": true, "accesstoken": true, "authtoken": true, "bearertoken": true,
	"hftoken": true, "secret": true, "clientsecret": true, "password": true, "passwd": true,
	"authorization": true, "privatekey": true,
}

// keyDoc is what gets hashed.
type keyDoc struct {
	Step    string          `json:"step"`
	Version int             `json:"version"`
	Inputs  []string        `json:"inputs"`
	Params  json.RawMessage `json:"params"`
}

// CanonicalParams returns the canonical JSON of the key's params: keys sorted at every level, numbers as
// written by encoding/json, no insignificant space. A nil Params encodes as null.
func (k Key) CanonicalParams() ([]byte, error) {
	raw, err := json.Marshal(k.Params)
	if err != nil {
		return nil, fmt.Errorf("step %s: params are not JSON-encodable: %w", k.Step, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep integers exact
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("step %s: params: %w", k.Step, err)
	}
	if path := findSecret(v, "params"); path != "" {
		return nil, fmt.Errorf("step %s: %s looks like a secret; secrets must not be part of a cache key "+
			"(tag the field `json:\"-\"`)", k.Step, path)
	}
	// encoding/json writes map keys sorted, which makes the re-encoding canonical.
	return json.Marshal(v)
}

func findSecret(v any, path string) string {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			norm := strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(k))
			if secretNames[norm] {
				return path + "." + k
			}
			if p := findSecret(x, path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		for i, x := range t {
			if p := findSecret(x, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}

// Hash is the key's identity: the hex SHA-256 of the canonical JSON of {step, version, inputs, params}.
func (k Key) Hash() (string, error) {
	if !stepName.MatchString(k.Step) {
		return "", fmt.Errorf("cache: step name %q must be letters, digits, '.', '_' or '-'", k.Step)
	}
	if isAnswerCache(k.Step) {
		return "", fmt.Errorf("cache: step name %q is the folder of cached service answers", k.Step)
	}
	params, err := k.CanonicalParams()
	if err != nil {
		return "", err
	}
	inputs := k.Inputs
	if inputs == nil {
		inputs = []string{}
	}
	b, err := json.Marshal(keyDoc{Step: k.Step, Version: k.Version, Inputs: inputs, Params: params})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
