// Package auth decides who is speaking. A caller presents a bearer token; the
// credentials file maps the SHA-256 of each token to an organisation — a police
// force or an NHS trust — and nothing in a request payload can change that.
//
// The credentials file is YAML:
//
//	credentials:
//	  - org: force/metropolitan
//	    token_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//	  - org: trust/RV3
//	    token_sha256: ...
//
// Only hashes are stored, so the file does not let its reader call the hub.
// Create an entry with `pathwayhub token --org force/btp`, which prints a new
// token once and the line to add.
//
// Layer 4 (hub/api/auth): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures, hub/store.
// The layers are checked by layers_test.go at the repository's top.
package auth
