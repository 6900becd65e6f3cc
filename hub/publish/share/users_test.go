package share_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/publish/share"
	"github.com/pathwayhub/pathwayhub/hub/store/coord"
	"github.com/pathwayhub/pathwayhub/hub/store/zkserver"
)

// usersFile is the part of a ClickHouse users.d file the tests read.
type usersFile struct {
	XMLName  xml.Name `xml:"yandex"`
	Readonly int      `xml:"profiles>pathway_share_reader>readonly"`
	Users    struct {
		Entries []struct {
			XMLName   xml.Name
			Password  string   `xml:"password_sha256_hex"`
			Profile   string   `xml:"profile"`
			Databases []string `xml:"allow_databases>database"`
		} `xml:",any"`
	} `xml:"users"`
}

func TestUsersXML(t *testing.T) {
	t.Parallel()
	raw, err := share.UsersXML([]share.User{
		{Name: "share_nel_icb", Database: "share_nel_icb", Password: "b"},
		{Name: "share_ncl_icb", Database: "share_ncl_icb", Password: "a"},
	}, 1)
	if err != nil {
		t.Fatal(err)
	}
	var f usersFile
	if err := xml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("not XML: %v\n%s", err, raw)
	}
	if f.Readonly != 1 || len(f.Users.Entries) != 2 {
		t.Fatalf("readonly %d, %d users:\n%s", f.Readonly, len(f.Users.Entries), raw)
	}
	sum := sha256.Sum256([]byte("a"))
	first := f.Users.Entries[0] // sorted by name
	if first.XMLName.Local != "share_ncl_icb" || first.Password != hex.EncodeToString(sum[:]) ||
		first.Profile != share.ReaderProfile || len(first.Databases) != 1 || first.Databases[0] != "share_ncl_icb" {
		t.Errorf("first user: %+v", first)
	}
	if strings.Contains(string(raw), "<password>") {
		t.Error("a plain password element is in the file")
	}
	for _, bad := range [][]share.User{
		{{Name: "Share-X", Database: "share_x", Password: "p"}},
		{{Name: "share_x", Database: "share_x</database><database>pathway", Password: "p"}},
	} {
		if _, err := share.UsersXML(bad, 2); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	if _, err := share.UsersXML(nil, 0); err == nil {
		t.Error("accepted readonly 0")
	}
}

func TestReadonlyLevel(t *testing.T) {
	t.Parallel()
	for version, want := range map[string]int{"18.16.1": 1, "19.17.4.11": 1, "24.8.4.13": 2, "25.8.1.1": 2} {
		if got := share.ReadonlyLevel(version); got != want {
			t.Errorf("%s: readonly %d, want %d", version, got, want)
		}
	}
}

func TestPasswordsPersistAndRotate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets", "share-passwords.yaml")
	p, err := share.LoadPasswords(path)
	if err != nil {
		t.Fatal(err)
	}
	first, err := p.For("ncl_icb")
	if err != nil || len(first) < 32 {
		t.Fatalf("password %q: %v", first, err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("passwords file: %v %v", info, err)
	}
	again, err := share.LoadPasswords(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := again.For("ncl_icb"); got != first {
		t.Fatalf("password changed across loads: %q then %q", first, got)
	}
	// Rotation is deleting the line.
	if err := os.WriteFile(path, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rotated, err := share.LoadPasswords(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := rotated.For("ncl_icb"); got == first || got == "" {
		t.Fatalf("rotated password %q", got)
	}
}

// TestPasswordsInZooKeeperAgree: on a cluster the passwords live in
// ZooKeeper. Two publishers that loaded them before either made a new
// recipient's password (one publisher per server runs at once) end with
// one password, the first saved; the publishing hub's file copy has it,
// and a hub that takes over later reads the same.
func TestPasswordsInZooKeeperAgree(t *testing.T) {
	t.Parallel()
	z, err := zkserver.Start(t.Context(), zkserver.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("%v (run `make deps`)", err)
	}
	t.Cleanup(z.Kill)
	dial := func() *coord.Session {
		s, err := coord.Dial([]string{z.Addr()}, "pathwayhub:share-test", 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	node := coord.PasswordsNode("pathway")
	mirror := filepath.Join(t.TempDir(), "share-passwords.yaml")
	a, err := share.LoadPasswordsFrom(dial(), node, mirror)
	if err != nil {
		t.Fatal(err)
	}
	b, err := share.LoadPasswordsFrom(dial(), node, "")
	if err != nil {
		t.Fatal(err)
	}
	first, err := a.For("ncl_icb")
	if err != nil {
		t.Fatal(err)
	}
	second, err := b.For("ncl_icb")
	if err != nil || second != first {
		t.Fatalf("the second publisher made %q (%v); want the first's %q", second, err, first)
	}
	if _, err := b.For("nel_icb"); err != nil {
		t.Fatal(err)
	}
	later, err := share.LoadPasswordsFrom(dial(), node, mirror)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := later.For("ncl_icb"); got != first {
		t.Fatalf("a later hub reads %q, want %q", got, first)
	}
	raw, err := os.ReadFile(mirror)
	if err != nil || !strings.Contains(string(raw), first) || !strings.Contains(string(raw), "nel_icb") {
		t.Fatalf("the file copy %q (%v) lacks the passwords", raw, err)
	}
	if info, err := os.Stat(mirror); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("file copy: %v %v", info, err)
	}
}
