package sampler

import (
	"reflect"
	"slices"
	"testing"
)

func TestNoDuplicatesHandWorked(t *testing.T) {
	// Row values: 0 {a,b}, 1 {a,c}, 2 {d,e}, 3 {b,f}, 4 {g,h}.
	rows := [][]int32{{0, 1}, {0, 2}, {3, 4}, {1, 5}, {6, 7}}
	values := func(i int) []int32 { return rows[i] }
	order := []int{0, 1, 2, 3, 4}
	for _, tc := range []struct {
		size     int
		dropLast bool
		want     [][]int
	}{
		// Row 1 clashes with 0 (a) and waits; 2 fills the first batch; then 1 and 3 (b is free again); 4 alone.
		{2, false, [][]int{{0, 2}, {1, 3}, {4}}},
		{2, true, [][]int{{0, 2}, {1, 3}}},
		// 1 and 3 both clash with 0 and wait; the second batch cannot be filled and is kept smaller.
		{3, false, [][]int{{0, 2, 4}, {1, 3}}},
		{3, true, [][]int{{0, 2, 4}}},
		{1, false, [][]int{{0}, {1}, {2}, {3}, {4}}},
	} {
		got, err := NoDuplicates(order, values, tc.size, tc.dropLast)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("size %d dropLast %v: %v, want %v", tc.size, tc.dropLast, got, tc.want)
		}
	}
	// The same text twice in one row is allowed (an anchor equal to its positive).
	got, _ := NoDuplicates([]int{0, 1}, func(i int) []int32 { return []int32{int32(i), int32(i)} }, 2, false)
	if !reflect.DeepEqual(got, [][]int{{0, 1}}) {
		t.Errorf("row with a repeated value: %v", got)
	}
}

func TestNoDuplicatesNeverRepeatsAText(t *testing.T) {
	// 200 rows whose positives repeat every 7 rows: every batch must hold distinct values, and every row
	// must appear exactly once over the epoch.
	n := 200
	values := func(i int) []int32 { return []int32{int32(i), int32(1000 + i%7)} }
	batches, err := NoDuplicates(Permutation(n, 3, 0), values, 8, false)
	if err != nil {
		t.Fatal(err)
	}
	var all []int
	for _, b := range batches {
		seen := map[int32]bool{}
		for _, r := range b {
			for _, v := range values(r) {
				if seen[v] {
					t.Fatalf("batch %v repeats value %d", b, v)
				}
				seen[v] = true
			}
		}
		if len(b) > 7 {
			t.Fatalf("batch %v has %d rows, but only 7 distinct positives exist", b, len(b))
		}
		all = append(all, b...)
	}
	slices.Sort(all)
	for i, r := range all {
		if r != i {
			t.Fatalf("rows batched: %d at position %d (want each row once)", r, i)
		}
	}
}

func TestPermutationIsAFunctionOfSeedAndEpoch(t *testing.T) {
	a, b := Permutation(50, 7, 1), Permutation(50, 7, 1)
	if !slices.Equal(a, b) {
		t.Fatal("same seed and epoch, different orders")
	}
	if slices.Equal(a, Permutation(50, 7, 2)) || slices.Equal(a, Permutation(50, 8, 1)) {
		t.Fatal("another epoch or seed gave the same order")
	}
	s := slices.Clone(a)
	slices.Sort(s)
	for i := range s {
		if s[i] != i {
			t.Fatalf("not a permutation: %v", a)
		}
	}
}

func TestBatches(t *testing.T) {
	got, _ := Batches([]int{4, 3, 2, 1, 0}, 2, false)
	if !reflect.DeepEqual(got, [][]int{{4, 3}, {2, 1}, {0}}) {
		t.Errorf("keep last: %v", got)
	}
	got, _ = Batches([]int{4, 3, 2, 1, 0}, 2, true)
	if !reflect.DeepEqual(got, [][]int{{4, 3}, {2, 1}}) {
		t.Errorf("drop last: %v", got)
	}
	if _, err := Batches(nil, 0, false); err == nil {
		t.Error("batch size 0 accepted")
	}
}

func TestInterner(t *testing.T) {
	in := NewInterner()
	if in.ID("a") != 0 || in.ID("b") != 1 || in.ID("a") != 0 || in.Len() != 2 {
		t.Error("interner ids")
	}
}
