package store

import (
	"context"
	"fmt"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/measures/annual"
)

// AnnualReturn reads force's annual return of s136 detentions for year
// (the statement hub/measures/annual builds) and checks its arithmetic;
// cutoff is the server's clock before the read.
func (s *Store) AnnualReturn(ctx context.Context, force string, year annual.Year) (cutoff time.Time, ret annual.Return, err error) {
	if err := s.conn.QueryRow(ctx, "SELECT now()").Scan(&cutoff); err != nil {
		return cutoff, ret, fmt.Errorf("store: annual return: %w", err)
	}
	query, err := annual.Query(s.db, force, year)
	if err != nil {
		return cutoff, ret, err
	}
	rows, err := s.conn.Query(ctx, query)
	if err != nil {
		return cutoff, ret, fmt.Errorf("store: annual return: %w", err)
	}
	defer rows.Close()
	var cells []annual.Cell
	for rows.Next() {
		var c annual.Cell
		var met, arrested uint8
		if err := rows.Scan(&c.Month, &c.AgeBand, &c.Sex, &c.EthnicGroup, &c.FirstPos, &c.Conveyance, &c.VehicleReason,
			&met, &arrested, &c.Consulted, &c.Detentions, &c.Revised, &c.LastReceived); err != nil {
			return cutoff, ret, fmt.Errorf("store: annual return: %w", err)
		}
		c.ConditionsMet, c.Arrested = met == 1, arrested == 1
		cells = append(cells, c)
	}
	if err := rows.Err(); err != nil {
		return cutoff, ret, fmt.Errorf("store: annual return: %w", err)
	}
	if ret, err = annual.Build(year, cells); err != nil {
		return cutoff, ret, err
	}
	return cutoff.UTC(), ret, annual.Check(ret)
}
