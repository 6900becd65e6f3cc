package policy

import (
	"regexp"
)

// The actions a decision is asked about.
const (
	// ActionSubmit is a controller storing incidents or health updates.
	ActionSubmit Action = "submit"
	// ActionRead is a recipient reading what its agreements grant it.
	ActionRead Action = "read"
	// ActionExport is a recipient downloading an evidence pack, or a
	// force's own supervisors or analysts its annual return (Input.Force).
	ActionExport Action = "export"
	// ActionApprove is a force's own supervisors or analysts signing off a
	// month of its incidents (Input.Force).
	ActionApprove Action = "approve"
	// ActionReopen is the same people reopening a month they approved.
	ActionReopen Action = "reopen"
)

// The datasets an agreement may cover.
const (
	// DatasetIncidents is the forces' incident records.
	DatasetIncidents = "incidents"
	// DatasetHealthUpdates is the trusts' side of an incident.
	DatasetHealthUpdates = "health_updates"
)

// The roles a recipient may hold.
const (
	// RoleRegionalLead compares forces across a region.
	RoleRegionalLead = "regional_lead"
	// RoleNationalLead compares regions (the nine English regions and
	// Wales, British Transport Police apart), such as the NPCC's
	// mental-health lead or NHS England: its measures are by region, not
	// by force.
	RoleNationalLead = "national_lead"
	// RoleCommissioner is a health commissioner, such as an ICB.
	RoleCommissioner = "commissioner"
	// RoleForceSupervisor supervises a force's live incidents.
	RoleForceSupervisor = "force_supervisor"
	// RoleForceAnalyst analyses a force's own data.
	RoleForceAnalyst = "force_analyst"
)

// The granularities a recipient may receive.
const (
	// GranularityRecord is one row per incident, limited to the listed fields.
	GranularityRecord = "record"
	// GranularityAggregate is the listed measures, after disclosure control.
	GranularityAggregate = "aggregate"
)

// AllMeasures is the word that, alone in a recipient's measures, means every
// measure of the catalogue.
const AllMeasures = "all"

// Disclosure-control defaults, applied when an agreement is silent.
const (
	// DefaultThreshold is the largest count that is suppressed (1 to 7).
	DefaultThreshold = 7
	// DefaultRounding is the base every released count is rounded to.
	DefaultRounding = 5
)

// recordFields lists the columns a record-level recipient may be given: the
// incident and health-update columns, less the subject token (which links a
// person across forces), the stored payload and the submission bookkeeping.
var recordFields = [...]string{
	"force_id", "incident_ref", "revision", "status",
	"incident_type", "rcrp_category", "rcrp_threshold", "disposition",
	"age_band", "sex", "ethnicity", "ethnic_group",
	"lad_code", "region_code", "first_pos_type", "pos_ods_org", "pos_ods_site",
	"transfer_arrived", "transfer_pos_type", "transfer_pos_ods_org", "transfer_pos_ods_site",
	"hcp_consulted", "consultee_role", "consultation_channel",
	"police_station_conditions_met", "inspector_authorised", "arrested_for_offence",
	"conveyance_method", "ambulance_requested", "police_vehicle_reason",
	"call_received", "deployed", "hcp_consulted_at", "detained",
	"ambulance_requested_at", "ambulance_arrived", "arrived_at_pos",
	"handover_initiated", "handover_accepted", "police_left_pos",
	"assessment_started", "assessment_completed", "detention_ended",
	"extension_authorised", "extension_hours", "extension_superintendent_approved",
	"presence_time", "presence_actor", "presence_action", "presence_reason",
	"outcome", "detention_breach", "trust_id",
}

// RecordFields returns the field names a record-level recipient may be given.
func RecordFields() []string { return append([]string(nil), recordFields[:]...) }

// Patterns for identifiers in agreement files.
var (
	agreementIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,62}$`)
	recipientIDPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{1,40}$`)
	slugPattern        = regexp.MustCompile(`^[a-z][a-z0-9-]{1,39}$`)
	odsPattern         = regexp.MustCompile(`^[A-Z0-9]{3,6}$`)
	regionPattern      = regexp.MustCompile(`^(E12[0-9]{6}|W92000004)$`)
	ladPattern         = regexp.MustCompile(`^(E0[6-9][0-9]{6}|W06[0-9]{6})$`)
	retentionPattern   = regexp.MustCompile(`^([1-9][0-9]{0,3}) (day|days|month|months|year|years)$`)
)
