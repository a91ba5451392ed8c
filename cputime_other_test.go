//go:build !unix

package scim_test

// processCPU is not measured here; BenchmarkFloor then reports wall time
// alone.
func processCPU() (int64, bool) { return 0, false }
