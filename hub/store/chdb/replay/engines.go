package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	chdb "github.com/chdb-io/chdb-go/chdb"
)

// Format is the output format both engines answer in.
const Format = "TabSeparatedWithNamesAndTypes"

// builtIn are the databases Reset leaves alone.
var builtIn = []string{"system", "default", "INFORMATION_SCHEMA", "information_schema"}

// HTTPServer is a ClickHouse server reached over its HTTP interface, all
// statements in one HTTP session so that temporary tables live from one to
// the next.
type HTTPServer struct {
	name    string
	base    string
	session string
	client  *http.Client
}

// NewHTTPServer returns the server whose HTTP interface listens on
// 127.0.0.1:port; name names it in reports.
func NewHTTPServer(name string, port int) *HTTPServer {
	return &HTTPServer{
		name:    name,
		base:    fmt.Sprintf("http://127.0.0.1:%d/", port),
		session: fmt.Sprintf("replay-%d", time.Now().UnixNano()),
		client:  &http.Client{Timeout: 10 * time.Minute},
	}
}

// Name implements Engine.
func (s *HTTPServer) Name() string { return s.name }

// Run implements Engine.
func (s *HTTPServer) Run(db, sql string) (string, error) {
	q := url.Values{"session_id": {s.session}, "default_format": {Format}}
	if db != "" && db != "default" {
		q.Set("database", db)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.base+"?"+q.Encode(), strings.NewReader(sql))
	if err != nil {
		return "", err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return "", err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(body))
		if db != "" && strings.Contains(msg, "Code: 81") && strings.Contains(msg, "Database "+db+" doesn't exist") {
			// A native connection checks its database only when it
			// connects; statements naming their tables in full still run
			// after it is dropped. So run them from default.
			return s.Run("", sql)
		}
		return "", errors.New(msg)
	}
	return string(body), nil
}

// Reset implements Engine.
func (s *HTTPServer) Reset() error { return reset(s, "") }

// reset drops every database but the built-in ones, and every table of
// default. sync is appended to each DROP (current releases drop Atomic
// databases in the background without SYNC).
func reset(en Engine, sync string) error {
	quoted := make([]string, len(builtIn))
	for i, b := range builtIn {
		quoted[i] = "'" + b + "'"
	}
	dbs, err := en.Run("", "SELECT name FROM system.databases WHERE name NOT IN ("+strings.Join(quoted, ", ")+")")
	if err != nil {
		return err
	}
	for _, db := range values(dbs) {
		if _, err := en.Run("", "DROP DATABASE IF EXISTS `"+db+"`"+sync); err != nil {
			return err
		}
	}
	tables, err := en.Run("", "SELECT name FROM system.tables WHERE database = 'default'")
	if err != nil {
		return err
	}
	for _, t := range values(tables) {
		if _, err := en.Run("", "DROP TABLE IF EXISTS default.`"+t+"`"+sync); err != nil {
			return err
		}
	}
	return nil
}

// values returns the cells of a one-column result in Format.
func values(out string) []string {
	ls := lines(out)
	if len(ls) < 2 {
		return nil
	}
	return ls[2:]
}

// Embedded is chDB: the current ClickHouse release as a library, with its
// data in a directory. Only one may be open in a process.
type Embedded struct {
	name string
	s    *chdb.Session
}

// OpenEmbedded opens chDB with its data in dir. The library is found
// through CHDB_LIB_PATH.
func OpenEmbedded(dir string) (*Embedded, error) {
	s, err := chdb.NewSession(dir)
	if err != nil {
		return nil, fmt.Errorf("replay: open chDB: %w", err)
	}
	e := &Embedded{s: s, name: "chDB"}
	v, err := e.Run("", "SELECT version()")
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("replay: open chDB: %w", err)
	}
	if vs := values(v); len(vs) == 1 {
		e.name = "chDB " + vs[0]
	}
	// DateTime text is read in the server's zone: UTC, as on the hub's
	// own servers.
	if _, err := e.Run("", "SET session_timezone = 'UTC'"); err != nil {
		s.Close()
		return nil, fmt.Errorf("replay: open chDB: %w", err)
	}
	return e, nil
}

// Close closes the session.
func (e *Embedded) Close() { e.s.Close() }

// Name implements Engine.
func (e *Embedded) Name() string { return e.name }

// Run implements Engine.
func (e *Embedded) Run(db, sql string) (string, error) {
	if db == "" {
		db = "default"
	}
	if err := e.query("USE `" + db + "`"); err != nil {
		// As a native connection would, run statements from default once
		// the connection's database is gone (see HTTPServer.Run).
		if !strings.Contains(err.Error(), "UNKNOWN_DATABASE") || db == "default" {
			return "", err
		}
		if err := e.query("USE default"); err != nil {
			return "", err
		}
	}
	return e.queryOut(sql)
}

func (e *Embedded) query(sql string) error {
	_, err := e.queryOut(sql)
	return err
}

func (e *Embedded) queryOut(sql string) (string, error) {
	r, err := e.s.Query(sql, Format)
	if err != nil {
		return "", err
	}
	if r == nil {
		return "", nil
	}
	defer r.Free()
	return r.String(), nil
}

// Reset implements Engine.
func (e *Embedded) Reset() error { return reset(e, " SYNC") }
