# METADATA
# title: Shared rules
# description: |
#   Dates are "YYYY-MM-DD" strings, so they compare in calendar order.
#   input.date is the decision's calendar date in Europe/London.
package pathway.lib

# inactive_reason says why an agreement is not in force on date.
inactive_reason(a, date) := sprintf("agreement %q expired on %s", [a.agreement, a.valid_until]) if {
	date > a.valid_until
}

inactive_reason(a, date) := sprintf("agreement %q is not valid until %s", [a.agreement, a.valid_from]) if {
	date < a.valid_from
}

# datasets are the datasets an agreement may cover.
datasets := {"incidents", "health_updates"}
