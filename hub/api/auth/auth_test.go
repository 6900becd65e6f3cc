package auth_test

import (
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
)

func TestParseAndAuthenticate(t *testing.T) {
	t.Parallel()
	token, hash, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	creds, err := auth.Parse([]byte("credentials:\n  - org: trust/RV3\n    token_sha256: " + hash + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	org, err := creds.Authenticate(h)
	if err != nil || org != (auth.Org{Kind: auth.KindTrust, ID: "RV3"}) {
		t.Fatalf("authenticate: %v %v", org, err)
	}
	for _, value := range []string{"", "Bearer", "Basic " + token, "Bearer " + hash} {
		h.Set("Authorization", value)
		if _, err := creds.Authenticate(h); connect.CodeOf(err) != connect.CodeUnauthenticated {
			t.Errorf("%q: %v, want unauthenticated", value, err)
		}
	}
}

func TestParseErrorsNameTheEntry(t *testing.T) {
	t.Parallel()
	hash := auth.HashToken("x")
	cases := map[string]string{
		"credentials:\n  - org: force/BTP\n    token_sha256: " + hash + "\n":                                                     "credentials[0].org",
		"credentials:\n  - org: police/btp\n    token_sha256: " + hash + "\n":                                                    "kind must be force, trust, icb, region or national",
		"credentials:\n  - org: force/btp\n    token_sha256: abc\n":                                                              "credentials[0].token_sha256",
		"credentials:\n  - org: force/btp\n    token_sha256: " + hash + "\n  - org: force/met\n    token_sha256: " + hash + "\n": "duplicate",
		"credentials:\n  - org: force/btp\n    token: secret\n":                                                                  "field token not found",
	}
	for in, want := range cases {
		_, err := auth.Parse([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to mention %q", in, err, want)
		}
	}
}
