-- The raw tables that ingest writes. Only the ingest service writes them; everything that leaves
-- the owning force is published from them into share databases under a policy decision.

-- incidents: one row per stored revision of a force's incident record. ReplacingMergeTree keeps
-- the highest revision per (force_id, incident_ref) when parts merge; readers use FINAL or argMax.
-- Enumerations are stored as their lower-case names without the type prefix, e.g. 's136'.
-- payload holds the record exactly as validated (protobuf binary), for faithful read-back.
CREATE TABLE IF NOT EXISTS ${db}.incidents (
    force_id String,
    incident_ref String,
    revision UInt32,
    status String,
    subject_token String,
    incident_type String,
    rcrp_category String,
    rcrp_threshold String,
    disposition String,
    age_band String,
    sex String,
    ethnicity String,
    ethnic_group String,
    lad_code String,
    region_code String,
    first_pos_type String,
    pos_ods_org String,
    pos_ods_site String,
    transfer_arrived Array(DateTime),
    transfer_pos_type Array(String),
    transfer_pos_ods_org Array(String),
    transfer_pos_ods_site Array(String),
    hcp_consulted String,
    consultee_role String,
    consultation_channel String,
    police_station_conditions_met UInt8,
    inspector_authorised UInt8,
    arrested_for_offence UInt8,
    conveyance_method String,
    ambulance_requested UInt8,
    police_vehicle_reason String,
    call_received DateTime,
    deployed Nullable(DateTime),
    hcp_consulted_at Nullable(DateTime),
    detained Nullable(DateTime),
    ambulance_requested_at Nullable(DateTime),
    ambulance_arrived Nullable(DateTime),
    arrived_at_pos Nullable(DateTime),
    handover_initiated Nullable(DateTime),
    handover_accepted Nullable(DateTime),
    police_left_pos Nullable(DateTime),
    assessment_started Nullable(DateTime),
    assessment_completed Nullable(DateTime),
    detention_ended Nullable(DateTime),
    extension_authorised UInt8,
    extension_hours UInt8,
    extension_superintendent_approved UInt8,
    presence_time Array(DateTime),
    presence_actor Array(String),
    presence_action Array(String),
    presence_reason Array(String),
    outcome String,
    detention_breach UInt8,
    submission_id String,
    received_at DateTime,
    payload String
) ENGINE = ReplacingMergeTree(revision)
ORDER BY (force_id, incident_ref);

-- health_updates: an NHS trust's side of an incident, one row per stored revision, kept apart
-- from the force's record and joined to it when read.
CREATE TABLE IF NOT EXISTS ${db}.health_updates (
    force_id String,
    incident_ref String,
    trust_id String,
    revision UInt32,
    pos_ods_site String,
    handover_accepted Nullable(DateTime),
    assessment_started Nullable(DateTime),
    assessment_completed Nullable(DateTime),
    outcome String,
    presence_time Array(DateTime),
    presence_actor Array(String),
    presence_action Array(String),
    presence_reason Array(String),
    submission_id String,
    received_at DateTime,
    payload String
) ENGINE = ReplacingMergeTree(revision)
ORDER BY (force_id, incident_ref, trust_id);

-- submissions: one row per batch received (dry runs included), with counts by result and the lag
-- from event time to receipt. No record content.
CREATE TABLE IF NOT EXISTS ${db}.submissions (
    submission_id String,
    org_kind String,
    org_id String,
    dataset String,
    received_at DateTime,
    dry_run UInt8,
    records UInt32,
    accepted UInt32,
    updated UInt32,
    unchanged UInt32,
    stale UInt32,
    rejected UInt32,
    lag_p50_seconds Int64,
    lag_max_seconds Int64
) ENGINE = MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (org_id, received_at);

-- rejections: one row per rule a rejected record broke: field path and code only, never content.
CREATE TABLE IF NOT EXISTS ${db}.rejections (
    submission_id String,
    org_id String,
    dataset String,
    received_at DateTime,
    record_index UInt32,
    field String,
    code String
) ENGINE = MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (org_id, received_at);
