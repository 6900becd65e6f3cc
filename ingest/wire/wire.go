package wire

// Limits of one call, as documented on IngestService in ingest.proto.
const (
	MaxRecords      = 10_000
	MaxRequestBytes = 16 << 20
)

// CodeForceIDIgnored is the warning given when a record names a force other
// than the one its credential belongs to. The hub stores the credential's
// force.
const CodeForceIDIgnored = "force_id_ignored"

// CodePolicyDenied is the error code of a record the data-sharing agreements
// do not let its submitter send; the message gives the policy's reason.
const CodePolicyDenied = "policy.denied"

// CodeApprovedMonth is the error code of a record for a month its force has
// approved, sent without a revision_reason; with one it is stored.
const CodeApprovedMonth = "approved_month"
