package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/app/apptest"
)

// TestReturnAndMonthCommands: BTP's sample export goes in; `return`
// downloads BTP's 2025-26 return as a signed pack and verifies it; `month`
// approves June 2025, lists it approved, reopens it; another force's token
// gets neither.
func TestReturnAndMonthCommands(t *testing.T) {
	creds := &auth.Credentials{}
	creds.Add("btp-token", auth.Org{Kind: auth.KindForce, ID: "btp"})
	creds.Add("met-token", auth.Org{Kind: auth.KindForce, ID: "metropolitan"})
	info := apptest.Start(t, shared.Addr(), creds)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "region.key")
	if _, err := run(t, "tokenise", "--new-key", keyFile); err != nil {
		t.Fatal(err)
	}
	sample := filepath.Join("..", "..", "ingest", "export", "testdata", "sample.csv")
	if out, err := run(t, "submit", "--quiet", "--hub", info.URL, "--token", "btp-token", "--key-file", keyFile, sample); err != nil {
		t.Fatalf("submit: %v\n%s", err, out)
	}

	packPath := filepath.Join(dir, "return.zip")
	out, err := run(t, "return", "--hub", info.URL, "--token", "btp-token", "--force", "btp", "--year", "2025-26", "--format", "csv", "--out", packPath)
	if err != nil {
		t.Fatalf("return: %v\n%s", err, out)
	}
	for _, want := range []string{"verified, signed by key", "btp, financial year 2025-26, 4 detentions", "return.csv", "Police station", "Not known"} {
		if !strings.Contains(out, want) {
			t.Errorf("`return` did not say %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(packPath); err != nil {
		t.Fatalf("no pack written: %v", err)
	}
	if _, err := run(t, "evidence", "verify", "--hub", info.URL, packPath); err != nil {
		t.Errorf("evidence verify of the return's pack: %v", err)
	}
	if out, err := run(t, "return", "--hub", info.URL, "--token", "met-token", "--force", "btp", "--year", "2025-26"); err == nil || !strings.Contains(err.Error(), "permission_denied") {
		t.Errorf("the Met downloading BTP's return: %v\n%s", err, out)
	}
	if _, err := run(t, "return", "--hub", info.URL, "--token", "btp-token", "--force", "btp", "--year", "2025", "--out", filepath.Join(dir, "x.zip")); err == nil || !strings.Contains(err.Error(), "year") {
		t.Errorf("a bad year: %v", err)
	}

	month := []string{"month", "--hub", info.URL, "--token", "btp-token", "--force", "btp"}
	if out, err := run(t, append(month, "approve", "--month", "2025-06")...); err != nil || !strings.Contains(out, "2025-06  approved") {
		t.Fatalf("month approve: %v\n%s", err, out)
	}
	if out, err := run(t, append(month, "list", "--from", "2025-05", "--to", "2025-06")...); err != nil ||
		!strings.Contains(out, "2025-05  provisional") || !strings.Contains(out, "2025-06  approved") {
		t.Errorf("month list: %v\n%s", err, out)
	}
	if out, err := run(t, append(month, "reopen", "--month", "2025-06", "--reason", "nonsense")...); err == nil || !strings.Contains(err.Error(), "late_records") {
		t.Errorf("a reopen with an unknown reason: %v\n%s", err, out)
	}
	if out, err := run(t, append(month, "reopen", "--month", "2025-06", "--reason", "late_records")...); err != nil || !strings.Contains(out, "provisional (reopened: late_records)") {
		t.Errorf("month reopen: %v\n%s", err, out)
	}
	met := []string{"month", "--hub", info.URL, "--token", "met-token", "--force", "btp", "approve", "--month", "2025-06"}
	if _, err := run(t, met...); err == nil || !strings.Contains(err.Error(), "permission_denied") {
		t.Errorf("the Met approving BTP's month: %v", err)
	}
}
