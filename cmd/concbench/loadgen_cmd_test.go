package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/serve/ecosystem"
	"github.com/concbench/concbench/serve/loadgen"
	"github.com/concbench/concbench/serve/servetest"
)

func TestLoadgenCommand(t *testing.T) {
	t.Parallel()
	env, ref, _ := servetest.Env(t, 0)
	r := servetest.Start(t, ecosystem.NetHTTP{}, env, ref)
	pages := `,"pages":100,"value_size":128}`
	// A remote target in jobs refused for their duration as well: had the
	// address passed by mistake, still no packet would leave.
	remote := `{"config":{"addr":"192.0.2.1:80","rate":100,"duration_ns":0`
	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stderr string // in stderr
	}{
		{name: "run", code: exitOK,
			stdin: `{"config":{"addr":"` + r.Addr() + `","rate":200,"duration_ns":300000000,"max_lag_ns":60000000000}` + pages},
		{name: "help", args: []string{"--help"}, code: exitOK, stderr: "Usage: concbench loadgen"},
		{name: "arguments", args: []string{"x"}, code: exitUsage, stderr: "unexpected arguments"},
		{name: "not JSON", stdin: "GET /", code: exitUsage, stderr: "decode load job"},
		{name: "remote", stdin: remote + "}" + pages, code: exitUsage, stderr: "not loopback"},
		{name: "remote allowed by the job only", stdin: remote + `,"allow_remote":true}` + pages,
			code: exitUsage, stderr: "not loopback"},
		// Allowed, so refused for what else is wrong.
		{name: "remote allowed", args: []string{"--allow-remote"},
			stdin: remote + "}" + pages, code: exitUsage, stderr: "duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runLoadgen(context.Background(), tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q, want it to mention %q", stderr.String(), tt.stderr)
			}
			if tt.code != exitOK || tt.name == "help" {
				if stdout.Len() != 0 {
					t.Errorf("stdout %q, want nothing", stdout.String())
				}
				return
			}
			if n := strings.Count(stdout.String(), "\n"); n != 1 {
				t.Fatalf("stdout has %d lines, want one JSON line: %q", n, stdout.String())
			}
			res, err := loadgen.DecodeResult(stdout.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if res.Scheduled == 0 || res.OK != res.Scheduled || res.Failed() != 0 {
				t.Fatalf("ok %d of %d, errors %v", res.OK, res.Scheduled, res.Errors)
			}
		})
	}
}

// The command's interrupted status is the one LoadChild recognises.
func TestLoadgenExitStatuses(t *testing.T) {
	t.Parallel()
	if serve.ExitLoadInterrupted != exitInterrupted || serve.ExitLoadRefused != exitUsage ||
		serve.ExitLoadError != exitError || serve.ExitLoadOK != exitOK {
		t.Fatal("serve's loadgen exit statuses differ from the command's")
	}
}
