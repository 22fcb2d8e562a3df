package feed

import (
	"context"
	"testing"
)

func TestIndicesSendsEveryIndexThenCloses(t *testing.T) {
	next := make(chan int)
	go Indices(context.Background(), next, 5)
	var got []int
	for i := range next {
		got = append(got, i)
	}
	if len(got) != 5 || got[0] != 0 || got[4] != 4 {
		t.Errorf("fed %v", got)
	}
}

func TestIndicesStopsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	next := make(chan int)
	done := make(chan struct{})
	go func() { Indices(ctx, next, 1_000_000); close(done) }()
	<-next
	cancel()
	<-done // Indices returned although nobody took the rest
	for range next {
	} // and closed the channel
}
