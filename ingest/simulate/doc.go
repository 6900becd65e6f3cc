// Package simulate produces deterministic synthetic feeds for three London
// forces, "btp" (British Transport Police), "metropolitan" (Metropolitan
// Police) and "city-of-london" (City of London Police), and for the NHS trusts
// that run their places of safety. It feeds `pathwayctl simulate` and
// `make demo`.
//
// Two modes exist:
//
//   - History returns the final snapshot of every incident a force had in a
//     period (s136 and s135(1) detentions and Right Care, Right Person calls),
//     plus the trusts' health updates. The same Options always give the same
//     records, byte for byte.
//   - RunLive opens, updates and closes incidents as a simulated clock moves,
//     and hands every new snapshot (and every trust-side update) to a Sink.
//
// The volumes, shares and durations are calibrated to the figures in
// shared/design/data-standard.md §1 (Home Office returns and the published
// RCRP evaluations); calibration.go lists every constant with its source.
// Over a History period, each force goes live with RCRP a quarter of the way
// in, and its measures move from the "before" to the "after" calibration over
// the following half of the period: s136 detentions fall, health-professional
// consultation and ambulance conveyance rise, officers spend less time at the
// place of safety, and more RCRP calls are referred to partners instead of
// being attended. Live mode uses the "after" values.
//
// Every record satisfies the field rules and pathway rules of
// schemas/pathway/v1: whole-second UTC timestamps in pathway order, no police
// station for under-18s, police stations only with the conditions met and an
// inspector's authorisation, extensions of at most 12 hours. A small share of
// detentions deliberately lasts longer than 24 hours plus any extension, so
// that the hub's breach flag has something to find.
//
// Identifiers are synthetic and pass through the regional pseudonymisation
// key before they leave the package: incident references are
// Key.IncidentRef(force + ":" + local number), subject tokens are
// Key.SubjectToken(synthetic person id). Some people recur, a few of them
// across forces, so repeat-detention measures have something to count.
//
// Layer 1 (ingest): besides its own room it may import schemas.
// The layers are checked by layers_test.go at the repository's top.
package simulate
