package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/app/apptest"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
)

var shared *chserver.Server

func TestMain(m *testing.M) { os.Exit(chservertest.Main(m, &shared)) }

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRoot()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

// TestSubmitEndToEnd submits the sample export through a real hub: the
// records are tokenised locally, stored once, and a second run changes
// nothing.
func TestSubmitEndToEnd(t *testing.T) {
	creds := &auth.Credentials{}
	creds.Add("btp-token", auth.Org{Kind: auth.KindForce, ID: "btp"})
	info := apptest.Start(t, shared.Addr(), creds)
	keyFile := filepath.Join(t.TempDir(), "region.key")
	if _, err := run(t, "tokenise", "--new-key", keyFile); err != nil {
		t.Fatal(err)
	}
	sample := filepath.Join("..", "..", "ingest", "export", "testdata", "sample.csv")
	raw, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Count(strings.TrimSpace(string(raw)), "\n") // header excluded

	args := []string{"submit", "--quiet", "--hub", info.URL, "--token", "btp-token", "--key-file", keyFile, sample}
	out, err := run(t, append([]string{"submit", "--dry-run"}, args[1:]...)...)
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	out, err = run(t, args...)
	if err != nil {
		t.Fatalf("submit: %v\n%s", err, out)
	}
	if !strings.Contains(out, "accepted   "+itoa(rows)) {
		t.Fatalf("summary does not show %d accepted:\n%s", rows, out)
	}
	out, err = run(t, args...)
	if err != nil || !strings.Contains(out, "unchanged  "+itoa(rows)) {
		t.Fatalf("second submit: %v\n%s", err, out)
	}

	conn, err := chdb.Open(t.Context(), chdb.Options{Addr: shared.Addr(), Database: info.Database})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(t.Context(), "SELECT count() FROM incidents").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if int(n) != rows {
		t.Fatalf("stored %d rows, want %d", n, rows)
	}
	// The raw incident numbers of the export never reach the hub.
	var leaked uint64
	if err := conn.QueryRow(t.Context(), "SELECT count() FROM incidents WHERE NOT match(incident_ref, '^[0-9a-f]{64}$')").Scan(&leaked); err != nil {
		t.Fatal(err)
	}
	if leaked != 0 {
		t.Fatalf("%d incident refs are not tokens", leaked)
	}
}

// TestSubmitReportsRejectionsAndExitsNonZero sends a file with one bad row
// and one record the hub rejects.
func TestSubmitReportsRejectionsAndExitsNonZero(t *testing.T) {
	creds := &auth.Credentials{}
	creds.Add("btp-token", auth.Org{Kind: auth.KindForce, ID: "btp"})
	info := apptest.Start(t, shared.Addr(), creds)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "region.key")
	if _, err := run(t, "tokenise", "--new-key", keyFile); err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile(filepath.Join("..", "..", "ingest", "export", "testdata", "sample.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(sample)), "\n")
	header := strings.Split(lines[0], ",")
	col := func(name string) int {
		for i, h := range header {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	bad := strings.Split(lines[1], ",")
	bad[col("detained")] = "2020-01-01T00:00:00Z" // before the call: the hub rejects it
	ugly := strings.Split(lines[2], ",")
	ugly[col("status")] = "finished" // not a code: the row is not sent
	file := filepath.Join(dir, "export.csv")
	body := strings.Join([]string{lines[0], strings.Join(bad, ","), strings.Join(ugly, ","), lines[3]}, "\n") + "\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "submit", "--quiet", "--hub", info.URL, "--token", "btp-token", "--key-file", keyFile, file)
	if _, ok := err.(rejectedError); !ok || exitCode(err) != 1 { //nolint:errorlint // the command returns it unwrapped
		t.Fatalf("want a rejection exit, got %v\n%s", err, out)
	}
	for _, want := range []string{"line 3, column status", "line 2: timeline.detained", "accepted   1", "rejected   1"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
