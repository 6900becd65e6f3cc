package replay

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/store/chdb/sqlrecord"
)

// Engine runs one statement, with db as the current database, and returns
// its rows in TabSeparated.
type Engine interface {
	// Name names the engine and its version in reports.
	Name() string
	// Run runs sql with db as the current database ("" for default).
	Run(db, sql string) (string, error)
	// Reset drops every database but the built-in ones.
	Reset() error
}

// Finding is one statement that the engines disagree on.
type Finding struct {
	// Entry is the statement as recorded.
	Entry sqlrecord.Entry
	// What says how the engines disagree.
	What string
}

// Report sums up a replay.
type Report struct {
	// Processes is the number of test processes replayed.
	Processes int
	// Statements counts the statements replayed on both engines, and
	// Distinct the different texts among them.
	Statements, Distinct int
	// Rows counts the insert rows replayed.
	Rows int
	// Compared counts the queries whose rows were compared, and Volatile
	// those run but not compared (Volatile).
	Compared, Volatile int
	// SkippedFailed counts statements not replayed because they failed in
	// the original run.
	SkippedFailed int
	// BothFailed lists statements that failed on both engines in the
	// replay though they had run in the original: the replay's order
	// differs from the original's where tests ran concurrently. They are
	// not a difference between engines.
	BothFailed []Finding
	// Findings lists statements that fail on one engine only, or whose
	// rows differ.
	Findings []Finding
}

// Run replays every process's entries on the old and the current engine.
func Run(entries map[string][]sqlrecord.Entry, old, current Engine, progress func(done, total int)) (*Report, error) {
	rep := &Report{Processes: len(entries)}
	distinct := map[string]struct{}{}
	total := 0
	for _, es := range entries {
		total += len(es)
	}
	done := 0
	for _, p := range slices.Sorted(maps.Keys(entries)) {
		if err := old.Reset(); err != nil {
			return nil, fmt.Errorf("replay: reset %s: %w", old.Name(), err)
		}
		if err := current.Reset(); err != nil {
			return nil, fmt.Errorf("replay: reset %s: %w", current.Name(), err)
		}
		for _, e := range entries[p] {
			done++
			if progress != nil {
				progress(done, total)
			}
			if e.Err != "" {
				rep.SkippedFailed++
				continue
			}
			rep.Statements++
			rep.Rows += len(e.Rows)
			distinct[e.SQL] = struct{}{}
			replayOne(rep, e, old, current)
		}
	}
	rep.Distinct = len(distinct)
	return rep, nil
}

// result is what one engine made of one statement.
type result struct {
	out string
	err error
}

func replayOne(rep *Report, e sqlrecord.Entry, old, current Engine) {
	script := Script(e)
	main := len(script) - 1 - len(e.External)
	oldCh := make(chan result, 1)
	go func() { oldCh <- runScript(old, e.Database, script, main) }()
	cur := runScript(current, e.Database, script, main)
	o := <-oldCh
	if e.Kind == sqlrecord.KindExec && mutationRE.MatchString(e.SQL) {
		// A mutation runs in the background on both engines; the code that
		// sent it waited for it (or it would not see its effect), so the
		// replay waits too before the next statement.
		waitMutations(old)
		waitMutations(current)
	}
	switch {
	case o.err != nil && cur.err != nil:
		rep.BothFailed = append(rep.BothFailed, Finding{Entry: e, What: fmt.Sprintf("%s: %v", old.Name(), o.err)})
	case o.err != nil:
		rep.Findings = append(rep.Findings, Finding{Entry: e, What: fmt.Sprintf("fails on %s only: %v", old.Name(), o.err)})
	case cur.err != nil && emptyInReplay(e, cur.err, old):
		rep.BothFailed = append(rep.BothFailed, Finding{Entry: e, What: fmt.Sprintf(
			"%s: %v (the source is empty in the replay, not in the original run, where the code replaces a partition only from a non-empty table)", current.Name(), cur.err)})
	case cur.err != nil:
		rep.Findings = append(rep.Findings, Finding{Entry: e, What: fmt.Sprintf("fails on %s only: %v", current.Name(), cur.err)})
	case e.Kind == sqlrecord.KindQuery && Volatile(e.SQL):
		rep.Volatile++
	case e.Kind == sqlrecord.KindQuery:
		rep.Compared++
		if diff := Compare(o.out, cur.out, hasOrderBy(e.SQL)); diff != "" {
			rep.Findings = append(rep.Findings, Finding{Entry: e, What: fmt.Sprintf("rows differ (%s | %s): %s", old.Name(), current.Name(), diff)})
		}
	}
}

var replaceFromRE = regexp.MustCompile(`(?i)\bREPLACE\s+PARTITION\s+.+\s+FROM\s+([a-z0-9_.]+)\s*$`)

// emptyInReplay reports whether err is a current release refusing to
// replace a partition from an empty table (18.16 empties the destination
// instead) where the source is empty in this replay too. The hub replaces
// only from a table it has just counted non-empty (else it truncates): a
// source empty here was filled in the original run by a statement the
// replay ran in another order, as BothFailed describes.
func emptyInReplay(e sqlrecord.Entry, err error, old Engine) bool {
	m := replaceFromRE.FindStringSubmatch(e.SQL)
	if m == nil || !strings.Contains(err.Error(), "has no parts in partition") {
		return false
	}
	out, qerr := old.Run(e.Database, "SELECT count() FROM "+m[1])
	lines := strings.Split(strings.TrimSpace(out), "\n") // names, types, then the count
	return qerr == nil && lines[len(lines)-1] == "0"
}

// Script turns an entry into the statements that replay it: its external
// tables made as temporary tables and filled, the statement itself (an
// insert with its rows), then the temporary tables dropped. The statement's
// rows are the output of the last statement but the drops.
func Script(e sqlrecord.Entry) []string {
	var s []string
	for _, x := range e.External {
		s = append(s, "CREATE TEMPORARY TABLE "+x.Name+" ("+x.Structure+")")
		if len(x.Rows) > 0 {
			s = append(s, "INSERT INTO "+x.Name+" VALUES "+strings.Join(x.Rows, ", "))
		}
	}
	stmt := e.SQL
	if e.Kind == sqlrecord.KindInsert {
		stmt = strings.TrimSpace(stmt) + " VALUES " + strings.Join(e.Rows, ", ")
	}
	s = append(s, stmt)
	for _, x := range e.External {
		s = append(s, "DROP TEMPORARY TABLE IF EXISTS "+x.Name)
	}
	return s
}

// runScript runs script on en and returns the output of its statement at
// index main (the statement replayed; those around it make and drop its
// external tables), or the first error.
func runScript(en Engine, db string, script []string, main int) result {
	var res result
	for i, sql := range script {
		out, err := en.Run(db, sql)
		if err != nil && res.err == nil {
			res.err = err
		}
		if i == main {
			res.out = out
		}
		if err != nil && i <= main {
			break
		}
	}
	return res
}

// mutationRE matches ALTER TABLE … DELETE or UPDATE, which ClickHouse runs
// in the background.
var mutationRE = regexp.MustCompile(`(?is)^\s*ALTER\s+TABLE\s+\S+\s+(DELETE|UPDATE)\b`)

// waitMutations waits, up to 30 s, until en has no mutation left to do.
func waitMutations(en Engine) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out, err := en.Run("", "SELECT count() FROM system.mutations WHERE is_done = 0")
		if err != nil {
			return
		}
		if v := values(out); len(v) == 1 && v[0] == "0" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var orderByRE = regexp.MustCompile(`(?i)\border\s+by\b`)

func hasOrderBy(sql string) bool { return orderByRE.MatchString(sql) }

// volatileRE matches statements whose rows are facts about the engine or
// the clock, not about the data: the release, sizes on disk, running
// queries, the current time, and the changes log (its logged_at is the
// server's clock at the insert, which a replay repeats at another time).
// They must run on both engines; their rows are not compared.
var volatileRE = regexp.MustCompile(`(?i)\bversion\(\)|\buptime\(\)|\bnow\(\)|\btoday\(\)|\brand(32|64)?\(|\bsystem\.(parts|processes|query_log|metrics|events|asynchronous_metrics|mutations|merges)\b|\.changes\b`)

// Volatile reports whether the rows of sql depend on the engine or the
// clock rather than on the data.
func Volatile(sql string) bool { return volatileRE.MatchString(sql) }

// Compare returns "" when a and b, two results in
// TabSeparatedWithNamesAndTypes, have the same column types and hold the
// same rows (in the same order when ordered), or else the first
// difference. Cells of Float columns need only agree to a relative 1e-9;
// every other cell must be the same text.
func Compare(a, b string, ordered bool) string {
	ra, rb := lines(a), lines(b)
	if len(ra) < 2 || len(rb) < 2 {
		if len(ra) == len(rb) {
			return "" // no result set (DDL, INSERT): nothing to compare
		}
		return fmt.Sprintf("%d lines against %d", len(ra), len(rb))
	}
	if ra[1] != rb[1] {
		return fmt.Sprintf("column types %q against %q", clip(ra[1]), clip(rb[1]))
	}
	floats := floatColumns(ra[1])
	ra, rb = ra[2:], rb[2:]
	if len(ra) != len(rb) {
		return fmt.Sprintf("%d rows against %d", len(ra), len(rb))
	}
	if !ordered {
		slices.Sort(ra)
		slices.Sort(rb)
	}
	for i := range ra {
		if !sameRow(ra[i], rb[i], floats) {
			if !ordered {
				return fmt.Sprintf("row %q against %q (rows sorted)", clip(ra[i]), clip(rb[i]))
			}
			return fmt.Sprintf("row %d: %q against %q", i+1, clip(ra[i]), clip(rb[i]))
		}
	}
	return ""
}

func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// floatColumns marks the columns whose type holds a float.
func floatColumns(types string) []bool {
	ts := strings.Split(types, "\t")
	out := make([]bool, len(ts))
	for i, t := range ts {
		out[i] = strings.Contains(t, "Float")
	}
	return out
}

var numberRE = regexp.MustCompile(`-?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|-?inf|nan`)

// sameRow compares two rows cell by cell: text for text, except in Float
// columns, where numbers need only agree to a relative 1e-9 (an array of
// floats is compared number by number).
func sameRow(a, b string, floats []bool) bool {
	if a == b {
		return true
	}
	ca, cb := strings.Split(a, "\t"), strings.Split(b, "\t")
	if len(ca) != len(cb) {
		return false
	}
	for i := range ca {
		if ca[i] == cb[i] {
			continue
		}
		if i >= len(floats) || !floats[i] || !sameNumbers(ca[i], cb[i]) {
			return false
		}
	}
	return true
}

func sameNumbers(a, b string) bool {
	na, nb := numberRE.FindAllStringIndex(a, -1), numberRE.FindAllStringIndex(b, -1)
	if len(na) != len(nb) {
		return false
	}
	pa, pb := 0, 0
	for i := range na {
		if a[pa:na[i][0]] != b[pb:nb[i][0]] || !closeNumbers(a[na[i][0]:na[i][1]], b[nb[i][0]:nb[i][1]]) {
			return false
		}
		pa, pb = na[i][1], nb[i][1]
	}
	return a[pa:] == b[pb:]
}

func closeNumbers(a, b string) bool {
	if a == b {
		return true
	}
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	return math.Abs(x-y) <= 1e-9*max(1, math.Abs(x), math.Abs(y))
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
