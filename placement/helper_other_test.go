//go:build !linux

package placement

const helperEnv = "PLACEMENT_TEST_HELPER"

func runHelper(string) int { return 2 }
