package sqlstore

import (
	"errors"
	"testing"
	"time"

	"github.com/scimhost/scim"
)

// TestBudgetEndsAnywhere: a budget that runs out at any point of a costly
// list (while its cost is estimated, its statement prepared or bound, or
// the database scanning) answers soon after. A SQLite driver that loses an
// interrupt delivered before the statement's first step
// (modernc.org/sqlite before v1.62) lets the scan run to its end instead:
// minutes under the race detector.
func TestBudgetEndsAnywhere(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		db, s, _ := seededUsers(t, db, 30_000)
		db.maxCost = 1 << 40
		costly := emailsCoTree(190)
		for budget := time.Millisecond; budget <= 40*time.Millisecond; budget += 500 * time.Microsecond {
			db.budget = budget
			start := time.Now()
			_, err := s.ListUsers(t.Context(), scim.Query{Count: 10, Filter: costly})
			took := time.Since(start)
			var se *scim.Error
			if err == nil || (!errors.As(err, &se) || se.Status != 503) {
				t.Fatalf("a budget of %v: %v after %v; want a 503", budget, err, took)
			}
			if took > budget+2*time.Second {
				t.Fatalf("a budget of %v answered after %v", budget, took)
			}
		}
	})
}
