package progress

import (
	"context"
	"testing"
	"time"
)

func TestReportETAAndFraction(t *testing.T) {
	for _, tc := range []struct {
		r    Report
		eta  time.Duration
		frac float64
	}{
		{Report{Done: 25, Total: 100, Elapsed: 10 * time.Second}, 30 * time.Second, 0.25},
		{Report{Done: 0, Total: 100, Elapsed: time.Second}, 0, 0},
		{Report{Done: 5, Total: 0, Elapsed: time.Second}, 0, 0},
		{Report{Done: 100, Total: 100, Elapsed: time.Second}, 0, 1},
		{Report{Done: 120, Total: 100, Elapsed: time.Second}, 0, 1},
	} {
		if got := tc.r.ETA(); got != tc.eta {
			t.Errorf("%+v: ETA %v, want %v", tc.r, got, tc.eta)
		}
		if got := tc.r.Fraction(); got != tc.frac {
			t.Errorf("%+v: Fraction %v, want %v", tc.r, got, tc.frac)
		}
	}
}

func TestTrackerSendsStampedReports(t *testing.T) {
	var got []Report
	tr := Start(func(r Report) { got = append(got, r) }, "embed", 10, "texts")
	tr.Add(4)
	tr.Set(6, map[string]float64{"loss": 1.5})
	tr.Add(1)
	tr.Finish()
	if len(got) != 5 {
		t.Fatalf("got %d reports, want 5", len(got))
	}
	wantDone := []int{0, 4, 6, 7, 10}
	for i, r := range got {
		if r.Done != wantDone[i] || r.Stage != "embed" || r.Total != 10 || r.Unit != "texts" {
			t.Errorf("report %d = %+v", i, r)
		}
	}
	if got[3].Values["loss"] != 1.5 {
		t.Errorf("values not kept across reports: %+v", got[3])
	}
	var nilFunc Func
	nilFunc.Send(Report{}) // must not panic
	Start(nil, "x", 1, "").Finish()
}

func TestTrackerEndStopsWhereItGotWhenCancelled(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		wantDone int
		stopped  bool
	}{
		{"cancelled", context.Canceled, 32, true},
		{"complete", nil, 142, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var last Report
			tr := Start(func(r Report) { last = r }, "generate", 142, "chunks")
			tr.Add(32)
			tr.End(tc.err)
			if last.Done != tc.wantDone || last.Stopped != tc.stopped {
				t.Errorf("last report %d/%d stopped=%v, want %d stopped=%v", last.Done, last.Total, last.Stopped, tc.wantDone, tc.stopped)
			}
		})
	}
}
