// Package feed holds the one piece the worker pools of question generation, the LLM and API teachers and the
// Weaviate bulk search share: feeding the indices of the work to the pool until the work or the context runs out.
package feed

import "context"

// Indices sends 0, 1, …, n−1 on next, stopping early when ctx is done, then closes next: the workers ranging over
// next stop after the item in hand, and none blocks on a send nobody receives.
func Indices(ctx context.Context, next chan<- int, n int) {
	defer close(next)
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			return
		}
	}
}
