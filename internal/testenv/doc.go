// Package testenv decides what a test does when something it needs is
// missing from the machine it runs on. Two kinds of absence differ:
//
//   - A dependency: a program or package that an install cures and that
//     .ci/run installs (redis-server, Chromium, the Python systems'
//     packages, iproute2). [Need] skips the test, saying what is missing and
//     how to install it; under CI=true (which .ci/run sets, after installing
//     every dependency) it fails the test instead, because there a missing
//     dependency is a broken CI set-up that a skip would hide.
//   - The machine: something no install cures (not root, a single CPU, no
//     AVX-512, /proc, the race detector's overhead). Such a test calls
//     t.Skip itself, with a message that says what the machine lacks;
//     CI=true does not change it.
//
// A test that needs redis-server:
//
//	path := testenv.LookPath(t, "redis-server", "apt-get install -y redis-server")
//
// A test that needs a Python system:
//
//	if err := def.CheckAvailable(); err != nil {
//		testenv.Need(t, err.Error(), external.InstallCommand)
//	}
package testenv
