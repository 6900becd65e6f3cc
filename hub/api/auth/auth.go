package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"

	"connectrpc.com/connect"
	"gopkg.in/yaml.v3"
)

// Kind is the kind of organisation a credential belongs to.
type Kind string

// The kinds of organisation. Forces and trusts submit data; every kind may
// be a recipient under a data-sharing agreement (see policy/).
const (
	KindForce Kind = "force"
	KindTrust Kind = "trust"
	// KindICB is an integrated care board (a health commissioner), named by
	// its ODS code, e.g. "icb/QMJ".
	KindICB Kind = "icb"
	// KindRegion is a regional body, such as a regional RCRP lead, named by a
	// lower-case slug, e.g. "region/london".
	KindRegion Kind = "region"
	// KindNational is a national body, such as the NPCC's mental-health
	// lead or NHS England, named by a lower-case slug, e.g. "national/npcc".
	KindNational Kind = "national"
)

// Org is an authenticated organisation.
type Org struct {
	Kind Kind
	// ID is the data.police.uk force id for a force ("btp"), the ODS
	// organisation code for a trust ("RV3") or an ICB ("QMJ"), or a slug for
	// a region ("london").
	ID string
}

// String returns "kind/id".
func (o Org) String() string { return string(o.Kind) + "/" + o.ID }

var (
	forceIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,39}$`)
	trustIDPattern = regexp.MustCompile(`^[A-Z0-9]{3,6}$`)
	hashPattern    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ParseOrg parses "force/<id>", "trust/<ods code>", "icb/<ods code>",
// "region/<slug>" or "national/<slug>".
func ParseOrg(s string) (Org, error) {
	kind, id, ok := strings.Cut(s, "/")
	if !ok {
		return Org{}, fmt.Errorf("auth: org %q: want force/<id>, trust/<ods code>, icb/<ods code>, region/<slug> or national/<slug>", s)
	}
	switch Kind(kind) {
	case KindForce:
		if !forceIDPattern.MatchString(id) {
			return Org{}, fmt.Errorf("auth: org %q: force id must be lower-case letters, digits and hyphens", s)
		}
	case KindTrust, KindICB:
		if !trustIDPattern.MatchString(id) {
			return Org{}, fmt.Errorf("auth: org %q: %s id must be an ODS code of 3 to 6 capitals or digits", s, kind)
		}
	case KindRegion, KindNational:
		if !forceIDPattern.MatchString(id) {
			return Org{}, fmt.Errorf("auth: org %q: %s id must be lower-case letters, digits and hyphens", s, kind)
		}
	default:
		return Org{}, fmt.Errorf("auth: org %q: kind must be force, trust, icb, region or national", s)
	}
	return Org{Kind: Kind(kind), ID: id}, nil
}

// Credentials maps token hashes to organisations. It is safe for concurrent
// use, and Replace swaps in a reloaded set atomically: a revoked token stops
// working for the next request.
type Credentials struct {
	mu     sync.RWMutex
	byHash map[[sha256.Size]byte]Org
}

type fileFormat struct {
	Credentials []struct {
		Org         string `yaml:"org"`
		TokenSHA256 string `yaml:"token_sha256"`
	} `yaml:"credentials"`
}

// Load reads a credentials file.
func Load(path string) (*Credentials, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	c, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("auth: %s: %w", path, err)
	}
	return c, nil
}

// Parse parses the YAML of a credentials file. Unknown keys, bad org names,
// malformed hashes and duplicate hashes are errors.
func Parse(raw []byte) (*Credentials, error) {
	var f fileFormat
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse credentials: %w", err)
	}
	c := &Credentials{byHash: make(map[[sha256.Size]byte]Org, len(f.Credentials))}
	for i, e := range f.Credentials {
		org, err := ParseOrg(e.Org)
		if err != nil {
			return nil, fmt.Errorf("credentials[%d].org: %w", i, err)
		}
		if !hashPattern.MatchString(e.TokenSHA256) {
			return nil, fmt.Errorf("credentials[%d].token_sha256: want 64 lower-case hex characters", i)
		}
		var h [sha256.Size]byte
		_, _ = hex.Decode(h[:], []byte(e.TokenSHA256))
		if _, dup := c.byHash[h]; dup {
			return nil, fmt.Errorf("credentials[%d].token_sha256: duplicate token", i)
		}
		c.byHash[h] = org
	}
	return c, nil
}

// Add registers a token for org, for callers that build credentials in code
// (the demo and tests).
func (c *Credentials) Add(token string, org Org) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byHash == nil {
		c.byHash = map[[sha256.Size]byte]Org{}
	}
	c.byHash[sha256.Sum256([]byte(token))] = org
}

// Len returns the number of credentials.
func (c *Credentials) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.byHash)
}

// Replace makes c hold exactly the credentials of next, at once.
func (c *Credentials) Replace(next *Credentials) {
	next.mu.RLock()
	m := next.byHash
	next.mu.RUnlock()
	c.mu.Lock()
	c.byHash = m
	c.mu.Unlock()
}

// Reload reads the credentials file at path and, only if it is valid,
// replaces c's credentials with it: a broken file leaves the old ones in
// force.
func (c *Credentials) Reload(path string) error {
	next, err := Load(path)
	if err != nil {
		return err
	}
	c.Replace(next)
	return nil
}

// Lookup returns the organisation a token belongs to. The token is hashed
// before the lookup, so lookup timing tells a caller nothing about how close a
// guess was to a real token.
func (c *Credentials) Lookup(token string) (Org, bool) {
	h := sha256.Sum256([]byte(token))
	c.mu.RLock()
	defer c.mu.RUnlock()
	org, ok := c.byHash[h]
	return org, ok
}

// LookupHash returns the organisation of the token whose SHA-256 is h, if
// that token is still held: a session keeps the hash, not the token, and is
// ended by the token's revocation.
func (c *Credentials) LookupHash(h [sha256.Size]byte) (Org, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	org, ok := c.byHash[h]
	return org, ok
}

// NewToken returns a fresh random token and the hash to store for it.
func NewToken() (token, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("auth: new token: %w", err)
	}
	token = "ph_" + hex.EncodeToString(b[:])
	return token, HashToken(token), nil
}

// HashToken returns the hex SHA-256 of a token, as stored in the file.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

type orgKey struct{}

// WithOrg returns a context carrying an authenticated organisation.
func WithOrg(ctx context.Context, org Org) context.Context {
	return context.WithValue(ctx, orgKey{}, org)
}

// OrgFrom returns the organisation that authenticated the request.
func OrgFrom(ctx context.Context) (Org, bool) {
	org, ok := ctx.Value(orgKey{}).(Org)
	return org, ok
}

// Errors returned to callers; they say nothing about which tokens exist.
var (
	errMissing = errors.New("missing bearer token: send Authorization: Bearer <token>")
	errUnknown = errors.New("unknown or revoked token")
)

// Authenticate returns the organisation for the Authorization header, or a
// Connect unauthenticated error.
func (c *Credentials) Authenticate(h http.Header) (Org, error) {
	value := h.Get("Authorization")
	scheme, token, ok := strings.Cut(value, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return Org{}, connect.NewError(connect.CodeUnauthenticated, errMissing)
	}
	org, ok := c.Lookup(strings.TrimSpace(token))
	if !ok {
		return Org{}, connect.NewError(connect.CodeUnauthenticated, errUnknown)
	}
	return org, nil
}

// Interceptor returns a Connect interceptor that authenticates every call,
// unary and streaming, and puts the organisation in the context. It is the
// second check: Middleware refuses an anonymous request before its body is
// read.
func (c *Credentials) Interceptor() connect.Interceptor {
	return &interceptor{creds: c}
}

type interceptor struct{ creds *Credentials }

// WrapUnary authenticates unary calls.
func (i *interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		org, err := i.creds.Authenticate(req.Header())
		if err != nil {
			return nil, err
		}
		return next(WithOrg(ctx, org), req)
	}
}

// WrapStreamingClient leaves client streams alone.
func (i *interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler authenticates streaming calls.
func (i *interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		org, err := i.creds.Authenticate(conn.RequestHeader())
		if err != nil {
			return err
		}
		return next(WithOrg(ctx, org), conn)
	}
}
