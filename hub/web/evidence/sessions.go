package evidence

import (
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
)

// How long a login code and a session last.
const (
	// LoginCodeLifetime is how long a one-time login code may be used.
	LoginCodeLifetime = 5 * time.Minute
	// SessionLifetime is how long an evidence-page session lasts, whatever
	// the browser does with its cookie.
	SessionLifetime = 12 * time.Hour
)

// grant is what a login code or a session stands for: the token it was made
// from (by its hash: a revoked token ends it) and when it ends.
type grant struct {
	tokenHash [sha256.Size]byte
	expires   time.Time
}

// sessions holds the one-time login codes and the sessions of the evidence
// pages, on the server: the browser holds only a random id. A hub that
// restarts signs everyone out.
type sessions struct {
	creds *auth.Credentials
	now   func() time.Time

	mu       sync.Mutex
	codes    map[string]grant
	sessions map[string]grant
}

func newSessions(creds *auth.Credentials, now func() time.Time) *sessions {
	return &sessions{creds: creds, now: now, codes: map[string]grant{}, sessions: map[string]grant{}}
}

// newCode makes a one-time login code for the holder of token.
func (s *sessions) newCode(token string) (code string, expires time.Time) {
	code, expires = rand.Text(), s.now().Add(LoginCodeLifetime)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	s.codes[code] = grant{tokenHash: sha256.Sum256([]byte(token)), expires: expires}
	return code, expires
}

// redeem uses up a login code and, when it was valid, unexpired and its
// token still held, starts a session for it.
func (s *sessions) redeem(code string) (session string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, found := s.codes[code]
	delete(s.codes, code) // used once, whatever the outcome
	if !found || !s.now().Before(g.expires) {
		return "", false
	}
	if _, held := s.creds.LookupHash(g.tokenHash); !held {
		return "", false
	}
	session = rand.Text()
	s.sessions[session] = grant{tokenHash: g.tokenHash, expires: s.now().Add(SessionLifetime)}
	return session, true
}

// lookup returns the organisation of a live session: unexpired, and its
// token not revoked.
func (s *sessions) lookup(session string) (auth.Org, bool) {
	s.mu.Lock()
	g, found := s.sessions[session]
	if found && !s.now().Before(g.expires) {
		delete(s.sessions, session)
		found = false
	}
	s.mu.Unlock()
	if !found {
		return auth.Org{}, false
	}
	return s.creds.LookupHash(g.tokenHash)
}

// end ends a session.
func (s *sessions) end(session string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, session)
}

// sweep drops expired codes and sessions; the caller holds mu.
func (s *sessions) sweep() {
	now := s.now()
	for k, g := range s.codes {
		if !now.Before(g.expires) {
			delete(s.codes, k)
		}
	}
	for k, g := range s.sessions {
		if !now.Before(g.expires) {
			delete(s.sessions, k)
		}
	}
}
