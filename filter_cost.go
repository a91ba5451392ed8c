package scim

import (
	"fmt"
	"net/http"
)

// filterCost is the estimate Options.MaxFilterCost bounds: the work of
// evaluating a filter on one resource, counted from its AST so that the
// bound is the same whatever store runs it.
type filterCost struct {
	total      int
	clauses    int // comparisons, inside value paths too
	substrings int // of which co, sw or ew
	valuePaths int
}

// Weights of the estimate. A substring comparison scans its operand; a
// value path evaluates its filter once per value of the attribute.
const (
	costClause    = 1
	costSubstring = 2
	costValuePath = 1
)

func (c *filterCost) add(f Filter) {
	switch e := f.(type) {
	case *AttrExpr:
		if e == nil {
			return
		}
		c.clauses++
		switch e.Op {
		case OpCo, OpSw, OpEw:
			c.substrings++
			c.total += costSubstring
		default:
			c.total += costClause
		}
	case *LogicalExpr:
		if e != nil {
			c.add(e.Left)
			c.add(e.Right)
		}
	case *NotExpr:
		if e != nil {
			c.add(e.Filter)
		}
	case *ValuePathExpr:
		if e != nil {
			c.valuePaths++
			c.total += costValuePath
			c.add(e.Filter)
		}
	}
}

// checkFilterCost refuses f when its estimated cost passes limit (0 for
// the default).
func checkFilterCost(f Filter, limit int) error {
	if limit <= 0 {
		limit = DefaultMaxFilterCost
	}
	var c filterCost
	c.add(f)
	if c.total <= limit {
		return nil
	}
	return errorf(http.StatusBadRequest, InvalidFilter, fmt.Sprintf(
		"the filter costs %d (%d comparisons, %d of them co, sw or ew; %d value paths), more than this server's limit of %d: a comparison costs %d, co, sw and ew cost %d, a value path %d plus its filter",
		c.total, c.clauses, c.substrings, c.valuePaths, limit, costClause, costSubstring, costValuePath))
}
