//go:build race

package main

// raceEnabled: the race detector slows the load generator 5–10×, which
// would make timing acceptance tests measure the detector, not surge.
const raceEnabled = true
