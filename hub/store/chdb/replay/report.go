package replay

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Write prints the report: its counts, up to show statements that failed on
// both engines and show findings in full, then the findings counted by the
// code that sent them.
func (r Report) Write(w io.Writer, show int) {
	fmt.Fprintf(w, "%d test processes, %d statements (%d distinct, %d insert rows), %d results compared (%d more not compared: engine or clock facts), %d not replayed (failed in the original run), %d failed on both (replay order), %d findings\n",
		r.Processes, r.Statements, r.Distinct, r.Rows, r.Compared, r.Volatile, r.SkippedFailed, len(r.BothFailed), len(r.Findings))
	for i, f := range r.BothFailed {
		if i == show {
			break
		}
		fmt.Fprintf(w, "  failed on both: %s\n    sent by %s\n    %s\n", oneLine(f.Entry.SQL, 300), f.Entry.Caller, oneLine(f.What, 400))
	}
	for i, f := range r.Findings {
		if i == show {
			fmt.Fprintf(w, "  … and %d more\n", len(r.Findings)-show)
			break
		}
		fmt.Fprintf(w, "FINDING %d: %s\n    sent by %s\n    %s\n", i+1, oneLine(f.Entry.SQL, 600), f.Entry.Caller, oneLine(f.What, 800))
	}
	writeByCaller(w, r.Findings)
}

// writeByCaller counts the findings by the function and line that sent
// them, most first: one bad statement builder shows as one line however many
// statements it made fail.
func writeByCaller(w io.Writer, fs []Finding) {
	if len(fs) == 0 {
		return
	}
	n := map[string]int{}
	for _, f := range fs {
		site, _, _ := strings.Cut(f.Entry.Caller, " < ")
		n[site]++
	}
	sites := slices.SortedFunc(maps.Keys(n), func(a, b string) int { return cmp.Or(n[b]-n[a], strings.Compare(a, b)) })
	fmt.Fprintln(w, "findings by the code that sent them:")
	for _, s := range sites {
		fmt.Fprintf(w, "  %6d  %s\n", n[s], s)
	}
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
