package share

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pathwayhub/pathwayhub/hub/sqltext"
	"github.com/pathwayhub/pathwayhub/hub/store/coord"
)

// ReaderProfile is the ClickHouse settings profile, and the quota, every
// recipient user gets.
const ReaderProfile = "pathway_share_reader"

// The limits of a recipient's queries (ReaderProfile) and of its use of the
// server (the quota of the same name). A dashboard's queries over a share
// stay far below them; a query that would not is stopped, not left to take
// the server's memory.
const (
	// ReaderMaxExecutionSeconds bounds one query's time.
	ReaderMaxExecutionSeconds = 60
	// ReaderMaxMemoryBytes bounds one query's memory.
	ReaderMaxMemoryBytes = 256 << 20
	// ReaderMaxResultRows bounds the rows one query returns.
	ReaderMaxResultRows = 100_000
	// ReaderMaxRowsToRead bounds the rows one query reads.
	ReaderMaxRowsToRead = 50_000_000
	// ReaderQuotaQueries bounds a recipient's queries per hour, and
	// ReaderQuotaSeconds their total time.
	ReaderQuotaQueries = 20_000
	ReaderQuotaSeconds = 1_800
)

// ReadonlyLevel returns the readonly setting for recipient users on a
// ClickHouse server of the given version ("18.16.1", "24.8.4.13").
//
// Current releases need readonly = 2: the Grafana ClickHouse plugin sends
// max_execution_time with each query, which readonly = 1 refuses there. On
// 18.x and 19.x, readonly = 1 is used instead: those releases accept settings
// sent with a native-protocol query even at readonly = 1 (so the plugin
// works), and readonly = 2 there would let the url() and file() table
// functions run, whereas readonly = 1 forbids every table function.
func ReadonlyLevel(version string) int {
	major, _, _ := strings.Cut(version, ".")
	if major == "18" || major == "19" {
		return 1
	}
	return 2
}

// User is one recipient's ClickHouse login: it may read its own share
// database and nothing else.
type User struct {
	// Name is the ClickHouse user name, e.g. share_<recipient>.
	Name string
	// Database is the only database it may read, e.g. share_<recipient>.
	Database string
	// Password is the plain-text password, for the recipient's Grafana
	// datasource; only its SHA-256 goes into the users.d file.
	Password string
}

// Passwords are the recipient users' passwords (recipient → password). They
// live in a secrets file, created with mode 0600 on first use, or on a
// cluster in a ZooKeeper node only the cluster's identity may read (so every
// hub that publishes gives a recipient the same password), with the file as
// a copy for the hub's local tools. Rotating a recipient's password is
// deleting its line: the next publication makes a new one and rewrites the
// users, which ClickHouse re-reads by itself.
type Passwords struct {
	path string
	// coord and node, when set, hold the passwords instead of path;
	// version and found are the node as read.
	coord   *coord.Session
	node    string
	version int32
	found   bool
	byID    map[string]string
}

// LoadPasswords reads the passwords file at path, or starts an empty one if
// it does not exist yet.
func LoadPasswords(path string) (*Passwords, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		raw, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("share: passwords: %w", err)
	}
	return parsePasswords(&Passwords{path: path}, path, raw)
}

// LoadPasswordsFrom reads the passwords in ZooKeeper node (or starts none
// if it does not exist yet); mirror, if not empty, is the file they are
// copied to whenever one is made.
func LoadPasswordsFrom(s *coord.Session, node, mirror string) (*Passwords, error) {
	raw, version, found, err := s.Get(node)
	if err != nil {
		return nil, fmt.Errorf("share: passwords: %w", err)
	}
	p, err := parsePasswords(&Passwords{path: mirror, coord: s, node: node, version: version, found: found}, node, raw)
	if err != nil || mirror == "" || len(p.byID) == 0 {
		return p, err
	}
	if old, err := os.ReadFile(mirror); err != nil || !bytes.Equal(old, raw) {
		if err := p.writeMirror(raw); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func parsePasswords(p *Passwords, from string, raw []byte) (*Passwords, error) {
	if err := yaml.Unmarshal(raw, &p.byID); err != nil {
		return nil, fmt.Errorf("share: passwords %s: %w", from, err)
	}
	if p.byID == nil {
		p.byID = map[string]string{}
	}
	return p, nil
}

// For returns the password of recipient id, making and saving a new random
// one if it has none.
func (p *Passwords) For(id string) (string, error) {
	if pw, ok := p.byID[id]; ok && pw != "" {
		return pw, nil
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("share: password: %w", err)
	}
	pw := hex.EncodeToString(b[:])
	p.byID[id] = pw
	raw, err := yaml.Marshal(p.byID)
	if err != nil {
		return "", fmt.Errorf("share: passwords: %w", err)
	}
	if p.coord != nil {
		err := p.coord.Replace(p.node, raw, p.version, p.found)
		if errors.Is(err, coord.ErrChanged) {
			// Another publisher saved passwords meanwhile (a publisher per
			// server runs at once): take theirs, and this one's if new.
			again, err := LoadPasswordsFrom(p.coord, p.node, p.path)
			if err != nil {
				return "", err
			}
			*p = *again
			return p.For(id)
		}
		if err != nil {
			return "", fmt.Errorf("share: passwords: %w", err)
		}
		if p.found {
			p.version++
		}
		p.found = true
	}
	if err := p.writeMirror(raw); err != nil {
		return "", err
	}
	return pw, nil
}

// writeMirror writes raw to the passwords file, if there is one.
func (p *Passwords) writeMirror(raw []byte) error {
	if p.path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p.path), 0o700); err != nil {
		return fmt.Errorf("share: passwords: %w", err)
	}
	if err := writeFileAtomic(p.path, raw, 0o600); err != nil {
		return fmt.Errorf("share: passwords: %w", err)
	}
	return nil
}

// DefaultPrefix starts the name of every share database and recipient user.
const DefaultPrefix = "share_"

// Database returns the share database of recipient id, which is also the
// name of its ClickHouse user: prefix + id, e.g. "share_ncl_icb".
func Database(prefix, id string) string { return prefix + id }

// UsersXML renders a ClickHouse users.d file that defines ReaderProfile and
// one user per recipient, allowed only its own share database. The format is
// the one ClickHouse 18.16 and current releases both read (<yandex> root,
// password_sha256_hex, allow_databases).
func UsersXML(users []User, readonly int) ([]byte, error) {
	c, err := RenderUsers(users, readonly)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString("<?xml version=\"1.0\"?>\n<!-- Generated by Pathway Hub (hub/publish/share) from the data-sharing agreements in force. Do not edit:\n     it is rewritten on every publication. One read-only user per share recipient. -->\n<yandex>\n")
	for _, sec := range []struct {
		name string
		body []byte
	}{{"profiles", c.Profiles}, {"quotas", c.Quotas}, {"users", c.Users}} {
		fmt.Fprintf(&buf, "    <%s>\n%s    </%s>\n", sec.name, sec.body, sec.name)
	}
	buf.WriteString("</yandex>\n")
	return buf.Bytes(), nil
}

// UsersConfig is the recipients' part of a ClickHouse users configuration:
// the children of its <profiles>, <quotas> and <users> elements. UsersXML
// puts them in a users.d file; on a cluster they go to ZooKeeper, where every
// server takes them in (hub/store/chserver.Cluster.UsersNode).
type UsersConfig struct {
	Profiles, Quotas, Users []byte
}

// RenderUsers renders ReaderProfile, its quota and one user per recipient.
func RenderUsers(users []User, readonly int) (UsersConfig, error) {
	if readonly != 1 && readonly != 2 {
		return UsersConfig{}, fmt.Errorf("share: users.d: readonly must be 1 or 2, got %d", readonly)
	}
	sorted := slices.Clone(users)
	slices.SortFunc(sorted, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	limits := []struct {
		name  string
		value int64
	}{
		{"max_execution_time", ReaderMaxExecutionSeconds}, {"max_memory_usage", ReaderMaxMemoryBytes},
		{"max_result_rows", ReaderMaxResultRows}, {"max_rows_to_read", ReaderMaxRowsToRead},
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "        <"+ReaderProfile+">\n            <readonly>%d</readonly>\n", readonly)
	for _, l := range limits {
		fmt.Fprintf(&buf, "            <%[1]s>%[2]d</%[1]s>\n", l.name, l.value)
	}
	buf.WriteString("            <result_overflow_mode>throw</result_overflow_mode>\n            <read_overflow_mode>throw</read_overflow_mode>\n")
	if readonly == 2 {
		// Current releases let readonly = 2 users change settings per
		// query (the Grafana plugin needs that for max_execution_time):
		// constraints keep the limits from being raised. (18.x and 19.x
		// get readonly = 1, under which no setting can be changed, and do
		// not know <constraints>.)
		buf.WriteString("            <constraints>\n")
		for _, l := range limits {
			fmt.Fprintf(&buf, "                <%[1]s><max>%[2]d</max></%[1]s>\n", l.name, l.value)
		}
		buf.WriteString("                <result_overflow_mode><readonly/></result_overflow_mode>\n")
		buf.WriteString("                <read_overflow_mode><readonly/></read_overflow_mode>\n")
		buf.WriteString("            </constraints>\n")
	}
	buf.WriteString("        </" + ReaderProfile + ">\n")
	var c UsersConfig
	c.Profiles = bytes.Clone(buf.Bytes())
	buf.Reset()
	fmt.Fprintf(&buf, "        <%s>\n            <interval>\n                <duration>3600</duration>\n"+
		"                <queries>%d</queries>\n                <errors>0</errors>\n                <result_rows>0</result_rows>\n"+
		"                <read_rows>0</read_rows>\n                <execution_time>%d</execution_time>\n            </interval>\n        </%s>\n",
		ReaderProfile, ReaderQuotaQueries, ReaderQuotaSeconds, ReaderProfile)
	c.Quotas = bytes.Clone(buf.Bytes())
	buf.Reset()
	for _, u := range sorted {
		if !sqltext.ValidIdent(u.Name) || !sqltext.ValidIdent(u.Database) {
			return UsersConfig{}, fmt.Errorf("share: users.d: invalid user or database name %q/%q", u.Name, u.Database)
		}
		sum := sha256.Sum256([]byte(u.Password))
		fmt.Fprintf(&buf, "        <%s>\n", u.Name)
		fmt.Fprintf(&buf, "            <password_sha256_hex>%s</password_sha256_hex>\n", hex.EncodeToString(sum[:]))
		buf.WriteString("            <networks>\n                <ip>::/0</ip>\n            </networks>\n")
		fmt.Fprintf(&buf, "            <profile>%s</profile>\n            <quota>%s</quota>\n", ReaderProfile, ReaderProfile)
		fmt.Fprintf(&buf, "            <allow_databases>\n                <database>%s</database>\n            </allow_databases>\n", xmlText(u.Database))
		fmt.Fprintf(&buf, "        </%s>\n", u.Name)
	}
	c.Users = buf.Bytes()
	return c, nil
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// writeFileAtomic writes data to a temporary file beside path and renames it
// into place, so a reader (ClickHouse watching users.d) never sees half a
// file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
