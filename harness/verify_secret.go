package harness

// secretHolder is a provider whose servers derive their values from a
// secret of the run (workloads.SecretValue), drawn at its first use and
// kept for the run: every provider of this package. Its Prepare gives each
// spec the secret (workloads.Spec.UseSecret), so that the spec's reference
// is that of the values served; a serve round reads it after Prepare for
// the pages' reference and the load generator (serve.LoadJob.Secret).
// Unexported, as the secret is: it goes to the servers and to the
// verifiers, never to a strategy or a server model, so that the only way
// to a value is to ask the backend for it.
type secretHolder interface {
	runSecret() uint64
}

var (
	_ secretHolder = (*InProcessBackends)(nil)
	_ secretHolder = (*ChildBackends)(nil)
	_ secretHolder = (*RemoteBackends)(nil)
	_ secretHolder = (*RedisBackend)(nil)
)
