package surge_test

import (
	"context"
	"github.com/surgeload/surge/internal/testenv"
	"io"
	"testing"

	"github.com/surgeload/surge"
)

func TestSQLLoad(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	ctx := context.Background()
	db, err := surge.OpenDB(ctx, dsn, 4, map[string]string{
		"add":    "SELECT $1::int + 1",
		"broken": "SELECT * FROM no_such_table_surge",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := surge.Run(ctx, surge.Test{
		Output:     io.Discard,
		Thresholds: map[string][]string{"sql_query_duration{query:add}": {"p(95)<1000"}, "sql_queries_failed{query:add}": {"rate==0"}},
		Scenarios: []surge.Scenario{{
			Executor: surge.ConstantArrivalRate{Rate: 200, Duration: 1e9, PreAllocatedVUs: 4, MaxVUs: 20},
			Exec: func(v *surge.VU) error {
				rows, err := v.Query(db, "add", 41)
				if err != nil || len(rows) != 1 {
					return err
				}
				if v.Iteration()%10 == 0 {
					v.Exec(db, "broken")
				}
				return nil
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed() {
		t.Error("thresholds on the working query failed")
	}
	d := res.Metric("sql_query_duration")
	f := res.Metric("sql_queries_failed")
	if d == nil || d["count"] < 190 || f == nil || f["passes"] < 1 {
		t.Errorf("sql_query_duration %v, sql_queries_failed %v", d, f)
	}
}
