# METADATA
# title: Approve and reopen a month
# description: |
#   May input.org sign off (approve) or reopen a month of input.force's
#   incidents? Only the force itself, as a recipient of an agreement in
#   force that covers incidents, in the role force_supervisor or
#   force_analyst, scoped to that force alone: one grant per such entry.
package pathway.approve

import data.pathway.index

roles := {"force_supervisor", "force_analyst"}

default entries := []

entries := [e |
	some e in index.recipients[input.org]
	input.org == concat("/", ["force", input.force])
	e.grant.role in roles
	e.grant.forces == [input.force]
	e.match.dataset.incidents
	e.valid_from <= input.date
	input.date <= e.valid_until
]

decision := {
	"allow": true,
	"reasons": [],
	"agreements": [],
	"grants": [e.grant | some e in entries],
} if {
	input.force != ""
	entries != []
} else := {
	"allow": false,
	"reasons": [sprintf(
		"only force %s's own supervisors or analysts, under an agreement in force covering its incidents, may %s its months",
		[input.force, input.action],
	)],
	"agreements": [],
	"grants": [],
}
