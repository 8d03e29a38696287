// Package e2e holds end-to-end tests: they start the built collector binary
// and real peers (promtool, and in later tests real Go services and stores)
// as processes on loopback.
package e2e
