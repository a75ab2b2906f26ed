//go:build race

package backend

// raceDetector reports whether the tests run under the race detector, whose
// shadow memory makes a process's resident memory say little about its own.
const raceDetector = true
