package login

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Path is where a caller with a token asks for a login link (POST,
// Authorization: Bearer <token>; the query's `next` names the evidence page
// to land on).
const Path = "/evidence/login-code"

// Link is a hub's answer: a one-time login link.
type Link struct {
	// URL is the link's path and query, to append to the hub's address.
	URL string `json:"url"`
	// ExpiresAt is when the link stops working, if unused.
	ExpiresAt time.Time `json:"expires_at"`
}

// Request asks the hub at hubURL for a one-time login link for the holder of
// token, landing on next (an /evidence/ path, or "" for the index), and
// returns the full link.
func Request(ctx context.Context, client *http.Client, hubURL, token, next string) (string, time.Time, error) {
	base := strings.TrimRight(hubURL, "/")
	u := base + Path
	if next != "" {
		u += "?" + url.Values{"next": {next}}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("login: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("login: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("login: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", time.Time{}, fmt.Errorf("login: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	var l Link
	if err := json.Unmarshal(body, &l); err != nil {
		return "", time.Time{}, fmt.Errorf("login: %w", err)
	}
	return base + l.URL, l.ExpiresAt, nil
}
