package dashboards_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pathwayhub/pathwayhub/dashboards"
	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/policy"
)

// TestWriteKeepsPasswordsPrivate checks that the datasources file, which
// holds the recipients' passwords, is written with mode 0600 and holds each
// recipient's own password, and that a recipient without one is an error.
func TestWriteKeepsPasswordsPrivate(t *testing.T) {
	t.Parallel()
	agreements, err := policy.LoadAgreements(filepath.Join("..", "policy", "agreements", "london"), measures.IDs())
	if err != nil {
		t.Fatal(err)
	}
	audiences, err := dashboards.Audiences(agreements, "share_")
	if err != nil {
		t.Fatal(err)
	}
	passwords := map[string]string{}
	for _, a := range audiences {
		passwords[a.ID] = "pw-of-" + a.ID
	}
	files, err := dashboards.Generate(dashboards.Options{Agreements: agreements, Passwords: passwords})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	paths, err := dashboards.Write(dir, files)
	if err != nil {
		t.Fatal(err)
	}
	secrets := 0
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(p, "datasources") {
			if st.Mode().Perm() != 0o644 {
				t.Errorf("%s: mode %v", p, st.Mode().Perm())
			}
			continue
		}
		secrets++
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s holds passwords but has mode %v", p, st.Mode().Perm())
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range audiences {
			if !strings.Contains(string(raw), "password: pw-of-"+a.ID+"\n") {
				t.Errorf("datasources lack %s's password", a.ID)
			}
		}
	}
	if secrets != 1 {
		t.Errorf("%d datasources files", secrets)
	}
	delete(passwords, "ncl_icb")
	if _, err := dashboards.Generate(dashboards.Options{Agreements: agreements, Passwords: passwords}); err == nil ||
		!strings.Contains(err.Error(), "ncl_icb") {
		t.Errorf("a recipient without a password: error %v", err)
	}
}

// BenchmarkGenerate measures generating every file for the example
// agreements.
func BenchmarkGenerate(b *testing.B) {
	agreements, err := policy.LoadAgreements(filepath.Join("..", "policy", "agreements", "london"), measures.IDs())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := dashboards.Generate(dashboards.Options{Agreements: agreements, Placeholder: "x"}); err != nil {
			b.Fatal(err)
		}
	}
}
