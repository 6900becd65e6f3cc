package policy_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/policy"
)

// londonDir is the shipped London agreement set.
const londonDir = "agreements/london"

// loadOne copies a testdata file alone into a fresh directory and loads it.
func loadOne(t *testing.T, name string) ([]policy.Agreement, error) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return policy.LoadAgreements(dir, measures.IDs())
}

// wantLines returns the "# want: ..." lines at the top of a testdata file.
func wantLines(t *testing.T, name string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "# want: ")
		if !ok {
			break
		}
		want = append(want, line)
	}
	return want
}

func TestLoadAgreementsBadFiles(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.bad.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad fixtures: %v", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want := wantLines(t, name)
			if len(want) == 0 {
				t.Fatal("the file has no # want: line")
			}
			as, err := loadOne(t, name)
			if err == nil {
				t.Fatalf("loaded %d agreements, want an error", len(as))
			}
			if as != nil {
				t.Errorf("agreements returned with the error: %v", as)
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			for _, line := range strings.Split(err.Error(), "\n")[1:] {
				if !strings.Contains(line, name+": ") {
					t.Errorf("error line does not name the file: %q", line)
				}
			}
		})
	}
}

func TestLoadAgreementsGoodFiles(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.good.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no good fixtures: %v", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			as, err := loadOne(t, name)
			if err != nil {
				t.Fatal(err)
			}
			if len(as) == 0 {
				t.Fatal("no agreements")
			}
			for _, a := range as {
				if !strings.HasSuffix(a.File, name) {
					t.Errorf("agreement %s: File = %q", a.ID, a.File)
				}
			}
		})
	}
}

func TestLoadAgreementsConverts(t *testing.T) {
	t.Parallel()
	as, err := loadOne(t, "full.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || as[0].ID != "north-west-rcrp" || as[1].ID != "wales-pilot" {
		t.Fatalf("agreements not sorted by id: %v", as)
	}
	nw := as[0]
	if nw.Version != "2025.2" {
		t.Errorf("Version = %q, want 2025.2", nw.Version)
	}
	if want := time.Date(2028, 3, 31, 0, 0, 0, 0, time.UTC); !nw.ValidUntil.Equal(want) {
		t.Errorf("ValidUntil = %v, want %v", nw.ValidUntil, want)
	}
	if nw.Retention != (policy.Retention{Count: 3, Unit: "years"}) || nw.Retention.String() != "3 years" {
		t.Errorf("Retention = %+v (%s)", nw.Retention, nw.Retention)
	}
	lead, icb, sup := nw.Recipients[0], nw.Recipients[1], nw.Recipients[2]
	if diff := cmp.Diff(measures.IDs(), lead.Measures); diff != "" {
		t.Errorf("measures [all] not expanded (-want +got):\n%s", diff)
	}
	if lead.Disclosure != (policy.Disclosure{Threshold: 7, Rounding: 5}) {
		t.Errorf("default disclosure = %+v", lead.Disclosure)
	}
	if icb.Disclosure != (policy.Disclosure{Threshold: 10, Rounding: 10}) {
		t.Errorf("disclosure = %+v", icb.Disclosure)
	}
	if !lead.Export || icb.Export {
		t.Errorf("export flags = %v, %v", lead.Export, icb.Export)
	}
	if diff := cmp.Diff(policy.Scope{Forces: []string{"lancashire"}, LADs: []string{"E07000117"}}, sup.Scope); diff != "" {
		t.Errorf("scope (-want +got):\n%s", diff)
	}
	if as[1].Retention.Cutoff(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) != time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC) {
		t.Errorf("730 days cut-off = %v", as[1].Retention.Cutoff(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	}
}

func TestRetentionCutoff(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		r    policy.Retention
		want time.Time
		text string
	}{
		{policy.Retention{Count: 1, Unit: "days"}, time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC), "1 day"},
		{policy.Retention{Count: 24, Unit: "months"}, time.Date(2024, 3, 31, 12, 0, 0, 0, time.UTC), "24 months"},
		{policy.Retention{Count: 7, Unit: "years"}, time.Date(2019, 3, 31, 12, 0, 0, 0, time.UTC), "7 years"},
	} {
		if got := tc.r.Cutoff(now); !got.Equal(tc.want) {
			t.Errorf("%s: Cutoff = %v, want %v", tc.text, got, tc.want)
		}
		if tc.r.String() != tc.text {
			t.Errorf("String = %q, want %q", tc.r.String(), tc.text)
		}
	}
}

func TestLoadAgreementsRecipientIDsUniqueAcrossFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"london-rcrp.yaml", "btp-national-health.yaml"} {
		data, err := os.ReadFile(filepath.Join(londonDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "btp-national-health.yaml" {
			data = bytes.Replace(data, []byte("id: btp_national_analysts"), []byte("id: ncl_icb"), 1)
		}
		if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "sub", name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, err := policy.LoadAgreements(dir, measures.IDs())
	// Files are read in path order, so the second use is in london-rcrp.yaml.
	want := `london-rcrp.yaml: agreement "london-rcrp": recipients[1].id: "ncl_icb" is already used by agreement "btp-national-health" (`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want it to contain %q", err, want)
	}
}

func TestLoadAgreementsSkipsHiddenAndOtherFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, body := range map[string]string{
		".editor.yaml":       "not: [valid",
		".git/config.yaml":   "not: [valid",
		"notes.txt":          "not yaml at all: [",
		"sub/minimal.yaml":   mustRead(t, "testdata/minimal.good.yaml"),
		"sub/deeper/x.yml":   "not: [valid",
		"sub/deeper/ok.yaml": mustRead(t, "testdata/full.good.yaml"),
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	as, err := policy.LoadAgreements(dir, measures.IDs())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range as {
		ids = append(ids, a.ID)
	}
	if want := []string{"kent-submit-only", "north-west-rcrp", "wales-pilot"}; !slices.Equal(ids, want) {
		t.Errorf("ids = %v, want %v", ids, want)
	}
}

func TestLoadAgreementsMissingDir(t *testing.T) {
	t.Parallel()
	if _, err := policy.LoadAgreements(filepath.Join(t.TempDir(), "absent"), measures.IDs()); err == nil {
		t.Fatal("want an error for a missing directory")
	}
}

func TestLondonAgreements(t *testing.T) {
	t.Parallel()
	as, err := policy.LoadAgreements(londonDir, measures.IDs())
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		Org, Role, Granularity string
		Scope                  policy.Scope
		Measures               int
		Export                 bool
	}
	got := map[string]summary{}
	var ids []string
	for _, a := range as {
		ids = append(ids, a.ID)
		for _, r := range a.Recipients {
			got[r.ID] = summary{r.Org, r.Role, r.Granularity, r.Scope, len(r.Measures), r.Export}
		}
	}
	if want := []string{"btp-national-health", "london-rcrp"}; !slices.Equal(ids, want) {
		t.Fatalf("agreements = %v, want %v", ids, want)
	}
	all := len(measures.IDs())
	want := map[string]summary{
		"london_regional_lead":  {"region/london", "regional_lead", "aggregate", policy.Scope{Regions: []string{"E12000007"}}, all, true},
		"ncl_icb":               {"icb/QMJ", "commissioner", "aggregate", policy.Scope{LADs: []string{"E09000003", "E09000007", "E09000010", "E09000014", "E09000019"}}, 11, true},
		"nel_icb":               {"icb/QMF", "commissioner", "aggregate", policy.Scope{LADs: []string{"E09000002", "E09000001", "E09000012", "E09000016", "E09000025", "E09000026", "E09000030", "E09000031"}}, 11, false},
		"btp_supervisors":       {"force/btp", "force_supervisor", "record", policy.Scope{Forces: []string{"btp"}}, 0, true},
		"met_supervisors":       {"force/metropolitan", "force_supervisor", "record", policy.Scope{Forces: []string{"metropolitan"}}, 0, true},
		"col_supervisors":       {"force/city-of-london", "force_supervisor", "record", policy.Scope{Forces: []string{"city-of-london"}}, 0, true},
		"btp_national_analysts": {"force/btp", "force_analyst", "aggregate", policy.Scope{Forces: []string{"btp"}}, all, true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recipients (-want +got):\n%s", diff)
	}
	london := as[1]
	for _, org := range []string{"force/btp", "force/metropolitan", "force/city-of-london",
		"trust/RV3", "trust/TAF", "trust/RRP", "trust/RWK", "trust/RV5", "trust/RQY",
		"trust/RYJ", "trust/RKE", "trust/RAL", "trust/R1H", "trust/RJ1", "trust/RJ7"} {
		if !slices.Contains(london.Controllers, org) {
			t.Errorf("london-rcrp: controller %s missing", org)
		}
	}
	if len(london.Controllers) != 15 {
		t.Errorf("london-rcrp: %d controllers, want 15", len(london.Controllers))
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
