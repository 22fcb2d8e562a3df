package encoder

// saved is what a model keeps about its directory besides the weights: where it was loaded from and the
// model card Save writes beside them.
type saved struct {
	dir  string
	card []byte
}

// SetModelCard makes Save write readme as the directory's README.md (the trainer sets the card of the run).
func (s *saved) SetModelCard(readme []byte) { s.card = readme }

// ModelCard is the README.md Save writes (nil: none).
func (s *saved) ModelCard() []byte { return s.card }

// Dir is the directory the model was loaded from ("" when it was built in memory).
func (s *saved) Dir() string { return s.dir }

// files are the extra files Save writes.
func (s *saved) files() map[string][]byte {
	if s.card == nil {
		return nil
	}
	return map[string][]byte{"README.md": s.card}
}
