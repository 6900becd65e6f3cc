package dashboards_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pathwayhub/pathwayhub/dashboards"
	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenDir holds the committed output of generating for the example
// agreements with a placeholder password.
const goldenDir = "testdata/golden"

// examples generates for the example agreements (London's and the
// national one), as committed.
func examples(t *testing.T) []dashboards.File {
	t.Helper()
	agreements, err := policy.LoadAgreements(filepath.Join("..", "policy", "agreements"), measures.IDs())
	if err != nil {
		t.Fatal(err)
	}
	files, err := dashboards.Generate(dashboards.Options{Agreements: agreements, Placeholder: "CHANGE-ME"})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestGoldenFiles checks that regenerating changes nothing: every file
// matches its committed copy, and no committed file is left over.
func TestGoldenFiles(t *testing.T) {
	t.Parallel()
	files := examples(t)
	if *update {
		if err := os.RemoveAll(goldenDir); err != nil {
			t.Fatal(err)
		}
		if _, err := dashboards.Write(goldenDir, files); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for _, f := range files {
		want = append(want, filepath.ToSlash(f.Path))
		got, err := os.ReadFile(filepath.Join(goldenDir, f.Path))
		if err != nil {
			t.Errorf("%s: %v (run go test ./dashboards -run TestGoldenFiles -update)", f.Path, err)
			continue
		}
		if !bytes.Equal(got, f.Data) {
			t.Errorf("%s differs from the generated file; run go test ./dashboards -run TestGoldenFiles -update and review the diff", f.Path)
		}
	}
	var have []string
	err := filepath.WalkDir(goldenDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(goldenDir, p)
		have = append(have, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range have {
		if !slices.Contains(want, h) {
			t.Errorf("golden file %s is no longer generated", h)
		}
	}
}
