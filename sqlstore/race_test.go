//go:build race

package sqlstore

// raceEnabled is set under the race detector, which slows modernc.org/sqlite
// (itself Go) about tenfold: the heaviest tests do less then.
const raceEnabled = true
