package harness

import "github.com/concbench/concbench/workloads/resp"

// AuthenticatedBackends is a provider whose servers want AUTH on every
// connection before anything else: RedisBackend with a password in its
// URL, RemoteBackends with a token. Its credentials reach every party
// that connects: the provider's own loading and control connections, and
// the strategies' connections, through the job (see BackendCredentials).
type AuthenticatedBackends interface {
	BackendProvider
	Credentials() resp.Credentials
}

var (
	_ AuthenticatedBackends = (*RedisBackend)(nil)
	_ AuthenticatedBackends = (*RemoteBackends)(nil)
)

// BackendCredentials returns what every connection to p's servers must
// log in with (resp.Client.Login; resp.Credentials.AppendAuth for an
// event loop): none for the built-in backends on loopback.
func BackendCredentials(p BackendProvider) resp.Credentials {
	if a, ok := p.(AuthenticatedBackends); ok {
		return a.Credentials()
	}
	return resp.Credentials{}
}
