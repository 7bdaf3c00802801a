package js

import (
	"context"
	"sync"
)

// RemoteSetup is setup()'s result computed in another process. A
// distributed run's master runs setup() and teardown() once; a worker
// builds its test with a RemoteSetup in the context given to Setup
// (WithRemoteSetup), so that Setup does not run setup(), Teardown does not
// run teardown(), and the VUs take the data Set on it before the load
// starts (each VU reads it at its first iteration).
type RemoteSetup struct {
	mu   sync.Mutex
	data string
}

// Set gives the setup data, as JSON ("" is undefined).
func (r *RemoteSetup) Set(data string) {
	r.mu.Lock()
	r.data = data
	r.mu.Unlock()
}

func (r *RemoteSetup) get() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.data
}

type remoteSetupKey struct{}

// WithRemoteSetup returns a context that makes Script.Setup take its data
// from r instead of running setup().
func WithRemoteSetup(ctx context.Context, r *RemoteSetup) context.Context {
	return context.WithValue(ctx, remoteSetupKey{}, r)
}

func remoteSetupFrom(ctx context.Context) *RemoteSetup {
	r, _ := ctx.Value(remoteSetupKey{}).(*RemoteSetup)
	return r
}
