package policy_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pathwayhub/pathwayhub/policy"
)

// decisionFile is a table of decision cases over one agreement set.
type decisionFile struct {
	// Agreements is the agreement directory, relative to the file.
	Agreements string         `yaml:"agreements"`
	Cases      []decisionCase `yaml:"cases"`
}

type decisionCase struct {
	Name  string `yaml:"name"`
	Input struct {
		Action    string    `yaml:"action"`
		Org       string    `yaml:"org"`
		Dataset   string    `yaml:"dataset"`
		Force     string    `yaml:"force"`
		PosOrg    string    `yaml:"pos_org"`
		Recipient string    `yaml:"recipient"`
		Time      time.Time `yaml:"time"`
	} `yaml:"input"`
	Allow      bool     `yaml:"allow"`
	Reason     string   `yaml:"reason"`
	Agreements []string `yaml:"agreements"`
	Grants     []string `yaml:"grants"`
}

// grantSummary is the one-line form of a grant used in the fixtures.
func grantSummary(g policy.Grant) string {
	return fmt.Sprintf("%s@%s %s forces=%v regions=%v lads=%d measures=%d fields=%d disclosure=%d/%d export=%v retention=%s",
		g.Recipient, g.Agreement, g.Granularity, nonNil(g.Forces), nonNil(g.Regions), len(g.LADs),
		len(g.Measures), len(g.Fields), g.Threshold, g.Rounding, g.Export, g.Retention)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestDecisionTable(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/decisions/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("decision fixtures: %v, %v", files, err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var f decisionFile
			dec := yaml.NewDecoder(bytes.NewReader(raw))
			dec.KnownFields(true)
			if err := dec.Decode(&f); err != nil {
				t.Fatal(err)
			}
			if len(f.Cases) == 0 {
				t.Fatal("no cases")
			}
			e, _ := newEngine(t, filepath.Join(filepath.Dir(path), f.Agreements), nil)
			for _, tc := range f.Cases {
				t.Run(tc.Name, func(t *testing.T) {
					t.Parallel()
					if tc.Input.Time.IsZero() || tc.Reason == "" {
						t.Fatal("a case needs input.time and reason")
					}
					// Twice: the second answer comes from the engine's memo.
					for range 2 {
						d, err := e.Decide(t.Context(), policy.Input{
							Action: policy.Action(tc.Input.Action), Org: tc.Input.Org, Dataset: tc.Input.Dataset,
							Force: tc.Input.Force, PosOrg: tc.Input.PosOrg, Recipient: tc.Input.Recipient,
							Time: tc.Input.Time,
						})
						if err != nil {
							t.Fatal(err)
						}
						checkDecision(t, tc, d)
					}
				})
			}
		})
	}
}

func checkDecision(t *testing.T, tc decisionCase, d policy.Decision) {
	t.Helper()
	if d.Allow != tc.Allow {
		t.Errorf("Allow = %v, want %v; reasons %q", d.Allow, tc.Allow, d.Reasons)
	}
	if !slices.ContainsFunc(d.Reasons, func(r string) bool { return strings.Contains(r, tc.Reason) }) {
		t.Errorf("reasons %q: none contains %q", d.Reasons, tc.Reason)
	}
	if !slices.Equal(nonNil(d.Agreements), nonNil(tc.Agreements)) {
		t.Errorf("Agreements = %v, want %v", d.Agreements, tc.Agreements)
	}
	var got []string
	for _, g := range d.Grants {
		got = append(got, grantSummary(g))
	}
	if !slices.Equal(nonNil(got), nonNil(tc.Grants)) {
		t.Errorf("grants:\n got %q\nwant %q", got, tc.Grants)
	}
}
