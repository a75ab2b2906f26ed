// Package servetest is the conformance suite of serve mode: the checks every
// server model's tests run, against a real server on a loopback port with
// an in-process backend. Conformance runs them all:
//
//	func TestConformance(t *testing.T) { servetest.Conformance(t, myServer{}) }
//
// It checks the endpoint (pages verified byte for byte, 404s, a query
// ignored, 502 when the backend is gone, the connection kept), an open-loop
// load with every response verified, bad input (garbage, a 1 MB request
// line, oversized headers, slowloris, pipelined requests, half-close,
// another method, HTTP/1.0 and Connection: close) and a backend that fails
// some lookups (every answer a verified page or a 502, connections kept,
// pages still coming at the end). After each bad input a witness
// connection opened beforehand must still be served.
//
// A server that serves a bounded number of connections at once
// (serve.ConnLimit: the iterative server, a bounded thread per connection)
// is checked within its bound, and the bound is checked to hold: with as
// many connections open as it serves, one more is not answered until one
// of them closes.
package servetest
