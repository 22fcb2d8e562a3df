//go:build !unix

package cache

import "context"

// fileLock is a no-op where flock is missing: two processes may then compute the same key at once, and the
// loser of the final rename discards its result and uses the winner's.
type fileLock struct{}

func tryLock(string) (*fileLock, bool, error) { return &fileLock{}, true, nil }

func lock(context.Context, string) (*fileLock, error) { return &fileLock{}, nil }

func (*fileLock) unlock() {}
