package pathway.decision_test

import data.pathway.decision

index := {
	"controllers": {"force/btp": {"kind": "force", "code": "btp", "datasets": {"incidents": [{
		"agreement": "a",
		"valid_from": "2024-01-01",
		"valid_until": "2026-12-31",
		"forces": {"btp": true},
	}]}}},
	"recipients": {"force/btp": [{
		"agreement": "a",
		"recipient": "btp_analysts",
		"valid_from": "2024-01-01",
		"valid_until": "2026-12-31",
		"datasets": ["incidents"],
		"export": false,
		"match": {
			"recipient": {"": true, "btp_analysts": true},
			"dataset": {"": true, "incidents": true},
			"action": {"read": true},
		},
		"grant": {"agreement": "a", "recipient": "btp_analysts"},
	}]},
}

decide(action) := d if {
	inp := {"action": action, "org": "force/btp", "dataset": "incidents", "force": "btp", "pos_org": "", "recipient": "", "date": "2025-01-01"}
	d := decision.main with input as inp
		with data.pathway.index as index
}

test_submit_dispatches_to_submit if {
	d := decide("submit")
	d.allow
	d.grants == []
}

test_read_dispatches_to_read if {
	d := decide("read")
	d.allow
	count(d.grants) == 1
}

test_export_dispatches_to_read if {
	d := decide("export")
	not d.allow
}

test_unknown_action_is_denied if {
	d := decide("delete")
	not d.allow
	d.reasons == ["unknown action"]
}
