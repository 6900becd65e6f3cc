package policy

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// regoFiles holds the policies and their tests.
//
//go:embed rego/*.rego
var regoFiles embed.FS

// The rules the engine evaluates: submit and read (which also answers
// export) directly, and the dispatching entry point for any other action.
const (
	submitQuery   = "data.pathway.submit.decision"
	readQuery     = "data.pathway.read.decision"
	decisionQuery = "data.pathway.decision.main"
)

// bundle is one compiled revision: agreements, data document and prepared
// query. It is immutable once built.
type bundle struct {
	revision   string
	agreements []Agreement
	submit     rego.PreparedEvalQuery
	read       rego.PreparedEvalQuery
	other      rego.PreparedEvalQuery
	// memo holds the outcomes evaluated under this bundle; nil evaluates
	// every decision afresh.
	memo *memo
}

// memoSize bounds a bundle's memo; when full it starts again empty.
const memoSize = 4096

// memoKey is everything an evaluation reads of its input: the fields of
// Input as the Rego sees them, with the time as its calendar date in
// Europe/London (the policies compare dates, never times).
type memoKey struct {
	action                                 Action
	org, dataset, force, posOrg, recipient string
	date                                   string
}

// outcome is what an evaluation decides.
type outcome struct {
	allow               bool
	reasons, agreements []string
	grants              []Grant
}

// memo remembers outcomes by input. A bundle is immutable and evaluation
// is a function of the bundle and the memo key alone, so a remembered
// outcome is the one evaluation would give. Ingest asks the same questions
// batch after batch (one per force and dataset) and the publisher once per
// recipient per publication, so most decisions are answered here. Every
// decision still gets its own id, log line, metric and audit row.
type memo struct {
	mu sync.RWMutex
	m  map[memoKey]outcome
}

func (m *memo) get(k memoKey) (outcome, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	o, ok := m.m[k]
	return o, ok
}

func (m *memo) put(k memoKey, o outcome) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.m) >= memoSize {
		clear(m.m)
	}
	m.m[k] = o
}

// fill copies the outcome into d; the copies keep callers from changing
// the remembered outcome.
func (o outcome) fill(d *Decision) {
	d.Allow, d.Reasons, d.Agreements = o.allow, slices.Clone(o.reasons), slices.Clone(o.agreements)
	d.Grants = nil
	for _, g := range o.grants {
		d.Grants = append(d.Grants, g.clone())
	}
}

func outcomeOf(d *Decision) outcome {
	o := outcome{allow: d.Allow, reasons: slices.Clone(d.Reasons), agreements: slices.Clone(d.Agreements)}
	for _, g := range d.Grants {
		o.grants = append(o.grants, g.clone())
	}
	return o
}

// clone copies g with its own slices.
func (g Grant) clone() Grant {
	g.Datasets, g.Forces, g.Regions, g.LADs = slices.Clone(g.Datasets), slices.Clone(g.Forces), slices.Clone(g.Regions), slices.Clone(g.LADs)
	g.Measures, g.Fields = slices.Clone(g.Measures), slices.Clone(g.Fields)
	return g
}

// regoSource is one embedded Rego file.
type regoSource struct {
	name string
	src  []byte
}

// regoSources returns the embedded Rego files, sorted by name; with tests
// false it leaves out the *_test.rego files.
func regoSources(tests bool) ([]regoSource, error) {
	names, err := fs.Glob(regoFiles, "rego/*.rego")
	if err != nil {
		return nil, fmt.Errorf("rego sources: %w", err)
	}
	slices.Sort(names)
	var out []regoSource
	for _, n := range names {
		if !tests && strings.HasSuffix(n, "_test.rego") {
			continue
		}
		src, err := regoFiles.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("rego sources: %w", err)
		}
		out = append(out, regoSource{name: n, src: src})
	}
	return out, nil
}

// parseModules parses Rego sources as Rego v1.
func parseModules(srcs []regoSource) (map[string]*ast.Module, error) {
	mods := make(map[string]*ast.Module, len(srcs))
	for _, s := range srcs {
		m, err := ast.ParseModuleWithOpts(s.name, string(s.src), ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true})
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", s.name, err)
		}
		mods[s.name] = m
	}
	return mods, nil
}

// buildBundle loads the agreements under dir and prepares the decision query.
func buildBundle(ctx context.Context, dir string, measures []string) (*bundle, error) {
	agreements, files, err := loadDir(dir, measures)
	if err != nil {
		return nil, err
	}
	srcs, err := regoSources(false)
	if err != nil {
		return nil, err
	}
	mods, err := parseModules(srcs)
	if err != nil {
		return nil, err
	}
	return prepare(ctx, agreements, mods, revision(dir, srcs, files))
}

func prepare(ctx context.Context, agreements []Agreement, mods map[string]*ast.Module, rev string) (*bundle, error) {
	store := inmem.NewFromObjectWithOpts(dataDocument(agreements),
		inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	names := make([]string, 0, len(mods))
	for n := range mods {
		names = append(names, n)
	}
	slices.Sort(names)
	b := &bundle{revision: rev, agreements: agreements}
	for _, q := range []struct {
		query string
		into  *rego.PreparedEvalQuery
	}{{submitQuery, &b.submit}, {readQuery, &b.read}, {decisionQuery, &b.other}} {
		opts := []func(*rego.Rego){
			rego.Query(q.query),
			rego.Store(store),
			rego.StoreReadAST(true),
			rego.StrictBuiltinErrors(true),
			rego.GenerateJSON(keepAST),
		}
		for _, n := range names {
			opts = append(opts, rego.ParsedModule(mods[n]))
		}
		pq, err := rego.New(opts...).PrepareForEval(ctx)
		if err != nil {
			return nil, fmt.Errorf("compile policy: %w", err)
		}
		*q.into = pq
	}
	return b, nil
}

// keepAST hands evaluation results back as AST terms, which eval decodes
// directly, skipping a conversion to maps and slices.
func keepAST(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }

// revision hashes the Rego sources and the agreement files (by path relative
// to dir, so the same files elsewhere have the same revision).
func revision(dir string, srcs []regoSource, files []sourceFile) string {
	h := sha256.New()
	for _, s := range srcs {
		fmt.Fprintf(h, "rego %s %d\n", s.name, len(s.src))
		h.Write(s.src)
	}
	for _, f := range files {
		rel, err := filepath.Rel(dir, f.path)
		if err != nil {
			rel = f.path
		}
		fmt.Fprintf(h, "agreement %s %d\n", filepath.ToSlash(rel), len(f.data))
		h.Write(f.data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// dataDocument builds data.pathway.index, which the policies look up by org
// so that a decision touches only the caller's own entries:
//
//	controllers[org]   {kind, code, datasets: {dataset: [{agreement, valid_from, valid_until, forces: {force: true}}, ...]}}
//	recipients[org]    [{agreement, recipient, valid_from, valid_until, datasets, export, match, grant}, ...]
//
// Lists are in agreement order (agreements arrive sorted by id). forces are
// the force ids among an agreement's controllers; match holds the lookup
// sets read.rego tests the input against.
func dataDocument(agreements []Agreement) map[string]any {
	controllers := map[string]map[string][]any{}
	recipients := map[string][]any{}
	for _, a := range agreements {
		forces := map[string]any{}
		for _, org := range a.Controllers {
			if id, ok := strings.CutPrefix(org, "force/"); ok {
				forces[id] = true
			}
		}
		entry := map[string]any{
			"agreement":   a.ID,
			"valid_from":  a.ValidFrom.Format(dateLayout),
			"valid_until": a.ValidUntil.Format(dateLayout),
			"forces":      forces,
		}
		for _, org := range a.Controllers {
			if controllers[org] == nil {
				controllers[org] = map[string][]any{}
			}
			for _, ds := range a.Datasets {
				controllers[org][ds] = append(controllers[org][ds], entry)
			}
		}
		for _, r := range a.Recipients {
			recipients[r.Org] = append(recipients[r.Org], recipientEntry(&a, &r))
		}
	}
	ctrlIndex := make(map[string]any, len(controllers))
	for org, byDataset := range controllers {
		datasets := make(map[string]any, len(byDataset))
		for ds, entries := range byDataset {
			datasets[ds] = entries
		}
		kind, code, _ := strings.Cut(org, "/")
		ctrlIndex[org] = map[string]any{"kind": kind, "code": code, "datasets": datasets}
	}
	recipIndex := make(map[string]any, len(recipients))
	for org, entries := range recipients {
		recipIndex[org] = entries
	}
	return map[string]any{"pathway": map[string]any{
		"index": map[string]any{"controllers": ctrlIndex, "recipients": recipIndex},
	}}
}

func recipientEntry(a *Agreement, r *Recipient) map[string]any {
	datasets := map[string]any{"": true}
	for _, ds := range a.Datasets {
		datasets[ds] = true
	}
	actions := map[string]any{string(ActionRead): true}
	if r.Export {
		actions[string(ActionExport)] = true
	}
	return map[string]any{
		"agreement":   a.ID,
		"recipient":   r.ID,
		"valid_from":  a.ValidFrom.Format(dateLayout),
		"valid_until": a.ValidUntil.Format(dateLayout),
		"datasets":    nonNil(a.Datasets),
		"export":      r.Export,
		"match": map[string]any{
			"recipient": map[string]any{"": true, r.ID: true},
			"dataset":   datasets,
			"action":    actions,
		},
		"grant": map[string]any{
			"agreement":   a.ID,
			"recipient":   r.ID,
			"org":         r.Org,
			"role":        r.Role,
			"purpose":     r.Purpose,
			"granularity": r.Granularity,
			"datasets":    nonNil(a.Datasets),
			"forces":      nonNil(r.Scope.Forces),
			"regions":     nonNil(r.Scope.Regions),
			"lads":        nonNil(r.Scope.LADs),
			"measures":    nonNil(r.Measures),
			"fields":      nonNil(r.Fields),
			"threshold":   r.Disclosure.Threshold,
			"rounding":    r.Disclosure.Rounding,
			"retention":   map[string]any{"count": a.Retention.Count, "unit": a.Retention.Unit},
			"export":      r.Export,
			"valid_until": a.ValidUntil.Format(dateLayout),
		},
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// eval answers d.Input into d.
func (b *bundle) eval(ctx context.Context, london *time.Location, d *Decision) error {
	in := d.Input
	key := memoKey{
		action: in.Action, org: in.Org, dataset: in.Dataset, force: in.Force, posOrg: in.PosOrg, recipient: in.Recipient,
		date: in.Time.In(london).Format(dateLayout),
	}
	if b.memo != nil {
		if o, ok := b.memo.get(key); ok {
			o.fill(d)
			return nil
		}
	}
	input := ast.NewObject(
		ast.Item(ast.InternedTerm("action"), ast.StringTerm(string(key.action))),
		ast.Item(ast.InternedTerm("org"), ast.StringTerm(key.org)),
		ast.Item(ast.InternedTerm("dataset"), ast.StringTerm(key.dataset)),
		ast.Item(ast.InternedTerm("force"), ast.StringTerm(key.force)),
		ast.Item(ast.InternedTerm("pos_org"), ast.StringTerm(key.posOrg)),
		ast.Item(ast.InternedTerm("recipient"), ast.StringTerm(key.recipient)),
		ast.Item(ast.InternedTerm("date"), ast.StringTerm(key.date)),
	)
	q := b.other
	switch in.Action {
	case ActionSubmit:
		q = b.submit
	case ActionRead, ActionExport:
		q = b.read
	case ActionApprove, ActionReopen:
		// Through the entry point, like any other action.
	}
	rs, err := q.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return errors.New("evaluate: the decision is undefined")
	}
	t, ok := rs[0].Expressions[0].Value.(*ast.Term)
	if !ok {
		return fmt.Errorf("evaluate: unexpected result %T", rs[0].Expressions[0].Value)
	}
	if err := decodeDecision(t.Value, d); err != nil {
		return err
	}
	explainAllow(d)
	if b.memo != nil {
		b.memo.put(key, outcomeOf(d))
	}
	return nil
}

// explainAllow words the reasons of an allowed decision, which the policies
// leave empty: one per grant for a read or export, otherwise one per
// agreement; and lists the grants' agreements, sorted and distinct.
func explainAllow(d *Decision) {
	if !d.Allow || len(d.Reasons) > 0 {
		return
	}
	if len(d.Grants) == 0 {
		for _, id := range d.Agreements {
			d.Reasons = append(d.Reasons, fmt.Sprintf("allowed under agreement %q", id))
		}
		return
	}
	for _, g := range d.Grants {
		d.Reasons = append(d.Reasons, fmt.Sprintf("granted to recipient %q under agreement %q", g.Recipient, g.Agreement))
		if !slices.Contains(d.Agreements, g.Agreement) {
			d.Agreements = append(d.Agreements, g.Agreement)
		}
	}
	slices.Sort(d.Agreements)
}
