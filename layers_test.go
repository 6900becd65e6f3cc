package pathwayhub_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/pathwayhub/pathwayhub"

// room is a folder of the project and its layer: a package may import a
// package of its own room, or of a room of a lower layer. Two rooms of the
// same layer may not import each other. Every package must be in a room, so
// a new folder is placed on purpose. The longest matching prefix wins.
type room struct {
	prefix string
	layer  int
}

// rooms, from the contract at the bottom to the commands at the top. The
// README's "Architecture" section draws the same picture.
var rooms = []room{
	{"schemas", 0},          // the contract: proto, generated code, codes, migrations
	{"hub/sqltext", 1},      // the one SQL quoting rule
	{"ingest", 1},           // what a force runs: wire constants, export, pseudonymise, validate, client, packs
	{"policy", 1},           // agreements and the OPA engine
	{"hub/measures", 2},     // the measure catalogue and pure statistics
	{"hub/store", 3},        // ClickHouse: connections, migrations, the raw tables' statements, the managed server
	{"hub/api/auth", 4},     // credentials and sessions' tokens, used by every service
	{"hub/publish", 5},      // the share publisher and the live monitor
	{"hub/api", 6},          // the Connect services: ingest, access
	{"hub/web", 6},          // the evidence pages and EvidenceService, charts
	{"dashboards", 7},       // Grafana dashboards generated from the catalogue and the agreements
	{"hub/config", 8},       // the hub's settings and their defaults
	{"hub/app", 9},          // the lifecycle: New, then Run
	{"hub/integration", 10}, // end-to-end tests
	{"hub", 10},             // the doc-only package of the server's folder
	{"cmd/pathwayhub", 10},  // the server's command, with its demo
	{"cmd/pathwayctl", 10},  // the client's command
	{"cmd/pathwaybench", 10},
	{"cmd/sqlreplay", 10},
	{".", 10}, // the repository's doc-only package
}

func roomOf(t *testing.T, pkg string) room {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	if rel == "" {
		rel = "."
	}
	best := room{layer: -1}
	for _, r := range rooms {
		if (rel == r.prefix || strings.HasPrefix(rel, r.prefix+"/")) && len(r.prefix) >= len(best.prefix) {
			best = r
		}
	}
	if best.layer < 0 {
		t.Fatalf("%s is in no room: add its folder to rooms", rel)
	}
	return best
}

type listed struct {
	ImportPath string
	Dir        string
	Name       string
	GoFiles    []string
	Imports    []string
	Deps       []string
}

func goList(t *testing.T, args ...string) []listed {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", append([]string{"list", "-json"}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listed
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestImportsRunOneWay fails on an import that runs back up a layer or
// across to another room of the same layer. Test files are not checked: a
// test may use a helper from anywhere.
func TestImportsRunOneWay(t *testing.T) {
	for _, p := range goList(t, "./...") {
		from := roomOf(t, p.ImportPath)
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			to := roomOf(t, imp)
			if to.prefix != from.prefix && to.layer >= from.layer {
				t.Errorf("%s (%s, layer %d) imports %s (%s, layer %d): imports must run down the layers",
					p.ImportPath, from.prefix, from.layer, imp, to.prefix, to.layer)
			}
		}
	}
}

// TestForceSideIsSmall: what a force installs to submit its feed links no
// ClickHouse driver, no policy engine and no dashboard generator.
func TestForceSideIsSmall(t *testing.T) {
	heavy := []string{"github.com/ClickHouse/", "github.com/open-policy-agent/", "github.com/grafana/grafana-foundation-sdk/"}
	for _, p := range goList(t, "-deps=false", "./cmd/pathwayctl", "./ingest/...") {
		for _, d := range goList(t, "-deps", p.ImportPath) {
			for _, h := range heavy {
				if strings.HasPrefix(d.ImportPath, h) {
					t.Errorf("%s links %s", p.ImportPath, d.ImportPath)
					break
				}
			}
		}
	}
}

// TestMainsAreThin: every command's main.go is at most 100 lines; the work
// is in the packages it calls.
func TestMainsAreThin(t *testing.T) {
	mains, err := filepath.Glob("cmd/*/main.go")
	if err != nil || len(mains) == 0 {
		t.Fatalf("no mains found: %v", err)
	}
	for _, m := range mains {
		f, err := os.Open(m)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for sc := bufio.NewScanner(f); sc.Scan(); {
			n++
		}
		_ = f.Close()
		if n > 100 {
			t.Errorf("%s has %d lines, more than 100", m, n)
		}
	}
}

// TestEveryFolderSaysWhatItOwns: each package but the generated ones has a
// doc.go with its package comment.
func TestEveryFolderSaysWhatItOwns(t *testing.T) {
	for _, p := range goList(t, "./...") {
		if strings.Contains(p.ImportPath, "/schemas/gen/") || len(p.GoFiles) == 0 {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(p.Dir, "doc.go"))
		if err != nil {
			t.Errorf("%s has no doc.go", p.ImportPath)
			continue
		}
		if !strings.Contains(string(raw), "// Package "+p.Name+" ") && !strings.Contains(string(raw), "// Command ") {
			t.Errorf("%s/doc.go has no package comment", p.ImportPath)
		}
	}
}
