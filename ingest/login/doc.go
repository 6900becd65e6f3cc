// Package login is the client side of the evidence pages' sign-in: it asks a
// hub, with an API token, for a one-time login link that starts a
// browser session. The token itself never goes in a URL. It needs nothing
// but net/http, so the force-side pathwayctl can use it.
//
// Layer 1 (ingest): besides its own room it may import schemas.
// The layers are checked by layers_test.go at the repository's top.
package login
