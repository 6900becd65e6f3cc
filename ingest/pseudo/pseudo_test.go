package pseudo_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
)

var tokenPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

func testKey(t *testing.T) pseudo.Key {
	t.Helper()
	k, err := pseudo.NewKey([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNormalise(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{" 485 777 3456 ", "4857773456"},
		{"485-777-3456", "4857773456"},
		{"ab/12.c", "AB12C"},
		{"\tx\t", "X"},
		{"", ""},
	}
	for _, c := range cases {
		if got := pseudo.Normalise(c.in); got != c.want {
			t.Errorf("Normalise(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSubjectTokenIsKeyedHMACOfNormalisedID(t *testing.T) {
	t.Parallel()
	k := testKey(t)
	a, err := k.SubjectToken("485 777 3456")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := k.SubjectToken("4857773456")
	if a != b {
		t.Fatalf("normalised forms differ: %s vs %s", a, b)
	}
	if !tokenPattern.MatchString(a) {
		t.Fatalf("token %q is not 64 lower-case hex", a)
	}
	// Independent computation of the documented construction.
	mac := hmac.New(sha256.New, []byte(strings.Repeat("k", 32)))
	mac.Write([]byte("pathway.v1/subject\x00" + "4857773456"))
	if want := hex.EncodeToString(mac.Sum(nil)); a != want {
		t.Fatalf("token = %s, want %s", a, want)
	}
	inc, _ := k.IncidentRef("4857773456")
	if inc == a {
		t.Fatal("incident ref and subject token share a domain")
	}
	other, _ := pseudo.NewKey([]byte(strings.Repeat("j", 32)))
	if o, _ := other.SubjectToken("4857773456"); o == a {
		t.Fatal("different keys gave the same token")
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	if _, err := pseudo.NewKey([]byte("short")); err == nil {
		t.Error("short key accepted")
	}
	if _, err := testKey(t).SubjectToken(" - "); err == nil {
		t.Error("empty identifier accepted")
	}
	if _, err := (pseudo.Key{}).SubjectToken("x"); err == nil {
		t.Error("zero key accepted")
	}
}

func TestLoadKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hexFile := filepath.Join(dir, "hex.key")
	b64File := filepath.Join(dir, "b64.key")
	badFile := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(hexFile, []byte(strings.Repeat("6b", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b64File, []byte("a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(badFile, []byte("not a key!"), 0o600); err != nil {
		t.Fatal(err)
	}
	want, _ := testKey(t).SubjectToken("x")
	for _, f := range []string{hexFile, b64File} {
		k, err := pseudo.LoadKey(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got, _ := k.SubjectToken("x"); got != want {
			t.Errorf("%s: key decoded differently", f)
		}
	}
	if _, err := pseudo.LoadKey(badFile); err == nil {
		t.Error("bad key file accepted")
	}
}
