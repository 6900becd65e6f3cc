// Package evidence serves a recipient's evidence: printable HTML pages with
// inline SVG charts at /evidence/…, evidence packs (a self-contained HTML
// file, CSV files of the numbers shown, a PDF when Chromium is available and
// a manifest of SHA-256 sums) and the EvidenceService Connect API.
//
// Every read goes through the policy: the caller's credential names an
// organisation, and policy.Decide (read for pages and the API, export for
// packs) must allow it an aggregate grant as the recipient asked for. The
// decision is audited by the policy engine. The numbers are then read from
// the recipient's published share (share_<recipient>: measures,
// spc_summary, funnel, catalogue, publication), so a page shows exactly what
// was published, after disclosure control, with the publication's
// provenance; nothing is recomputed from raw data. Pages, packs and the API
// are all built from one Report loaded by Load.
//
// Routes:
//
//	GET /evidence/                               the caller's aggregate recipients
//	GET /evidence/{recipient}?from=YYYY-MM&to=YYYY-MM   the evidence page
//	GET /evidence/{recipient}/pack.zip?from=&to=        the evidence pack
//
// Pages accept `Authorization: Bearer <token>`, or a login link
// `?token=<token>` that sets an HttpOnly cookie and redirects to the same
// address without the token, so that a browser can open them.
//
// Layer 6 (hub/web): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures, hub/store, hub/api/auth, hub/publish.
// The layers are checked by layers_test.go at the repository's top.
package evidence
