package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pathwayhub/pathwayhub/cmd/pathwayhub/demo"
	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
)

func statsCmd() *cobra.Command {
	var addr, database, dataDir, user, password string
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Print incidents per force and month, read back from ClickHouse (operators)",
		Long: `Read the raw database and print the number of incidents per force and month
(highest revision of each incident, withdrawn ones left out). Needs direct
access to ClickHouse: this is an operator's tool, not a data-sharing route.
Without --clickhouse it uses the address a hub with a managed ClickHouse wrote
under --data-dir, logging in as its default user with the password kept there.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if addr == "" {
				raw, err := os.ReadFile(filepath.Join(dataDir, app.ClickHouseAddrFile))
				if err != nil {
					return errors.New("no --clickhouse given and no running managed ClickHouse found under --data-dir")
				}
				addr = strings.TrimSpace(string(raw))
				if password == "" && user == "default" {
					// The managed server's default user has a password,
					// readable only by the hub's own OS user.
					pw, err := os.ReadFile(filepath.Join(dataDir, "clickhouse", chserver.DefaultPasswordFile))
					if err != nil {
						return fmt.Errorf("the managed ClickHouse's default password: %w", err)
					}
					password = strings.TrimSpace(string(pw))
				}
			}
			conn, err := chdb.Open(cmd.Context(), chdb.Options{Addr: addr, Database: database, Username: user, Password: password})
			if err != nil {
				return err
			}
			defer conn.Close()
			counts, err := store.New(conn, database).MonthlyCounts(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "incidents per force and month in %s (s136 in brackets)\n", database)
			return demo.WriteMonthlyTable(cmd.OutOrStdout(), counts)
		},
	}
	cmd.Flags().StringVar(&addr, "clickhouse", os.Getenv("PATHWAYHUB_CLICKHOUSE"), "ClickHouse native address host:port")
	cmd.Flags().StringVar(&database, "database", "pathway", "raw database")
	cmd.Flags().StringVar(&dataDir, "data-dir", "var", "hub data directory (to find a managed ClickHouse)")
	cmd.Flags().StringVar(&user, "user", "default", "ClickHouse user")
	cmd.Flags().StringVar(&password, "password", os.Getenv("PATHWAYHUB_CLICKHOUSE_PASSWORD"), "ClickHouse password")
	return cmd
}
