package simulate

import (
	"fmt"
	"slices"
)

// ONS region and local authority district codes.
const (
	regionLondon     = "E12000007"
	regionNorthWest  = "E12000002"
	regionYorkshire  = "E12000003"
	regionWestMids   = "E12000005"
	ladManchester    = "E08000003"
	ladLeeds         = "E08000035"
	ladBirmingham    = "E08000025"
	ladWestminster   = "E09000033"
	ladCamden        = "E09000007"
	ladLambeth       = "E09000022"
	ladSouthwark     = "E09000028"
	ladTowerHamlets  = "E09000030"
	ladNewham        = "E09000025"
	ladHackney       = "E09000012"
	ladCroydon       = "E09000008"
	ladHaringey      = "E09000014"
	londonLADFirst   = 2  // E09000002, Barking and Dagenham (E09000001 is the City)
	londonLADLast    = 33 // E09000033, Westminster
	londonLADPattern = "E09%06d"
)

// site is a place of safety: the ODS organisation running it and its ODS site
// code. The organisation codes are the real NHS trusts; the site codes are
// illustrative.
type site struct{ org, site string }

// sector is a group of areas served by the same mental-health trust's
// health-based place of safety and the same emergency department.
type sector struct {
	hbpos site
	ed    site
}

// The sectors. London trusts: Central and North West London (RV3), Camden and
// Islington (TAF), Barnet, Enfield and Haringey (RRP), East London (RWK),
// South London and Maudsley (RV5), South West London and St George's (RQY);
// EDs at Imperial (RYJ), Whittington (RKE), Royal Free (RAL), Barts (R1H),
// Guy's and St Thomas' (RJ1), St George's (RJ7). Outside London (BTP only):
// Greater Manchester MH (RXV) and Manchester University (RW3); Leeds and York
// Partnership (RGD) and Leeds Teaching Hospitals (RR8); Birmingham and
// Solihull MH (RXT) and University Hospitals Birmingham (RRK).
var (
	sectorWest         = &sector{hbpos: site{"RV3", "RV3AA"}, ed: site{"RYJ", "RYJ01"}}
	sectorNorthCentral = &sector{hbpos: site{"TAF", "TAF01"}, ed: site{"RKE", "RKE01"}}
	sectorNorth        = &sector{hbpos: site{"RRP", "RRP01"}, ed: site{"RAL", "RAL01"}}
	sectorEast         = &sector{hbpos: site{"RWK", "RWK01"}, ed: site{"R1H", "R1H12"}}
	sectorSouthEast    = &sector{hbpos: site{"RV5", "RV5AA"}, ed: site{"RJ1", "RJ121"}}
	sectorSouthWest    = &sector{hbpos: site{"RQY", "RQY01"}, ed: site{"RJ7", "RJ701"}}
	sectorManchester   = &sector{hbpos: site{"RXV", "RXV01"}, ed: site{"RW3", "RW3MR"}}
	sectorLeeds        = &sector{hbpos: site{"RGD", "RGD01"}, ed: site{"RR8", "RR813"}}
	sectorBirmingham   = &sector{hbpos: site{"RXT", "RXT01"}, ed: site{"RRK", "RRK15"}}
)

var allSectors = []*sector{
	sectorWest, sectorNorthCentral, sectorNorth, sectorEast, sectorSouthEast,
	sectorSouthWest, sectorManchester, sectorLeeds, sectorBirmingham,
}

// londonSector maps each London borough (the number in E09000nnn) to its
// sector.
var londonSector = map[int]*sector{
	1: sectorEast, 2: sectorEast, 3: sectorNorth, 4: sectorSouthEast,
	5: sectorWest, 6: sectorSouthEast, 7: sectorNorthCentral, 8: sectorSouthEast,
	9: sectorWest, 10: sectorNorth, 11: sectorSouthEast, 12: sectorEast,
	13: sectorWest, 14: sectorNorth, 15: sectorWest, 16: sectorEast,
	17: sectorWest, 18: sectorWest, 19: sectorNorthCentral, 20: sectorWest,
	21: sectorSouthWest, 22: sectorSouthEast, 23: sectorSouthEast, 24: sectorSouthWest,
	25: sectorEast, 26: sectorEast, 27: sectorSouthWest, 28: sectorSouthEast,
	29: sectorSouthWest, 30: sectorEast, 31: sectorEast, 32: sectorSouthWest,
	33: sectorWest,
}

// area is where an incident begins: an ONS local authority district, its
// region, the sector whose places of safety serve it, and how often the
// force's incidents begin there.
type area struct {
	lad    string
	region string
	sector *sector
	weight float64
}

// ladCode returns the ONS code of London borough E09000nnn.
func ladCode(n int) string { return fmt.Sprintf(londonLADPattern, n) }

// london returns the area for London borough E09000nnn.
func london(n int, weight float64) area {
	return area{lad: ladCode(n), region: regionLondon, sector: londonSector[n], weight: weight}
}

// metAreas: the 32 boroughs (the City is policed by City of London Police),
// busier in central and inner London [Design].
var metAreas = func() []area {
	busier := map[string]float64{
		ladWestminster: 2.0, ladLambeth: 1.4, ladSouthwark: 1.3, ladCamden: 1.3,
		ladHackney: 1.2, ladCroydon: 1.3, ladNewham: 1.2, ladTowerHamlets: 1.2,
		ladHaringey: 1.1,
	}
	var out []area
	for n := londonLADFirst; n <= londonLADLast; n++ {
		w := busier[ladCode(n)]
		if w == 0 {
			w = 1
		}
		out = append(out, london(n, w))
	}
	return out
}()

// cityAreas: the City of London only.
var cityAreas = []area{london(1, 1)}

// btpAreas: mainly the London boroughs with the big stations, plus a few
// incidents on the network outside London (about 14%) [Design].
var btpAreas = []area{
	london(33, 20), // Westminster: Victoria, Paddington, Charing Cross
	london(7, 16),  // Camden: King's Cross, St Pancras, Euston
	london(22, 10), // Lambeth: Waterloo
	london(28, 8),  // Southwark: London Bridge
	london(1, 8),   // City: Liverpool Street, Fenchurch Street, Cannon Street
	london(25, 5),  // Newham: Stratford
	london(30, 4),  // Tower Hamlets
	london(32, 4),  // Wandsworth: Clapham Junction
	london(19, 3),  // Islington
	london(8, 3),   // Croydon: East Croydon
	london(12, 2),  // Hackney
	london(9, 2),   // Ealing
	london(5, 2),   // Brent
	{lad: ladManchester, region: regionNorthWest, sector: sectorManchester, weight: 6},
	{lad: ladLeeds, region: regionYorkshire, sector: sectorLeeds, weight: 4},
	{lad: ladBirmingham, region: regionWestMids, sector: sectorBirmingham, weight: 5},
}

// Trusts lists the ODS organisation codes of every NHS trust whose places of
// safety the simulated forces use, sorted. Each of them may submit health
// updates (HealthUpdate.TrustID), so a demo needs a credential for each.
func Trusts() []string {
	seen := map[string]bool{}
	for _, s := range allSectors {
		seen[s.hbpos.org] = true
		seen[s.ed.org] = true
	}
	out := make([]string, 0, len(seen))
	for org := range seen {
		out = append(out, org)
	}
	slices.Sort(out)
	return out
}
