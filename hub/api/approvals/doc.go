// Package approvals serves ApprovalService: a force's own supervisors or
// analysts sign off (approve) a month of its incidents, or reopen it,
// each under an audited policy decision (approve, reopen); the force
// lists its months' states. Ingest asks for a revision reason for a month
// approved (hub/api/ingest), and the publisher marks each month in the
// shares (hub/publish/share); both read the same approvals log
// (hub/store).
//
// Layer 6 (hub/api): besides its own room it may import the layers below.
// The layers are checked by layers_test.go at the repository's top.
package approvals
