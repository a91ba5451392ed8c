package sqldialect

import "testing"

func TestRebind(t *testing.T) {
	tests := []struct {
		d          Dialect
		query, out string
	}{
		{PostgreSQL, "SELECT 1 FROM t WHERE a = ? AND b IN (?, ?)", "SELECT 1 FROM t WHERE a = $1 AND b IN ($2, $3)"},
		{PostgreSQL, "SELECT 1", "SELECT 1"},
		{SQLite, "SELECT 1 FROM t WHERE a = ?", "SELECT 1 FROM t WHERE a = ?"},
	}
	for _, tt := range tests {
		if got := tt.d.Rebind(tt.query); got != tt.out {
			t.Errorf("%v.Rebind(%q) = %q, want %q", tt.d, tt.query, got, tt.out)
		}
	}
	if got := Dialect(0).String(); got != "Dialect(0)" {
		t.Errorf("the zero Dialect's String: %q", got)
	}
}
