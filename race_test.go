//go:build race

package scim_test

// raceEnabled is set under the race detector, under which sync.Pool drops
// items at random: allocation counts are not exact then.
const raceEnabled = true
