//go:build unix

package cache

import (
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// fileLock is an exclusive advisory lock (flock) on a lock file. The kernel drops it when the process dies,
// so a crashed computation never blocks later runs.
type fileLock struct{ f *os.File }

// tryLock takes the lock if it is free.
func tryLock(path string) (*fileLock, bool, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return &fileLock{f}, true, nil
}

// lock waits for the lock, polling so that ctx can cancel the wait.
func lock(ctx context.Context, path string) (*fileLock, error) {
	wait := 5 * time.Millisecond
	for {
		l, ok, err := tryLock(path)
		if err != nil || ok {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

func (l *fileLock) unlock() {
	unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	l.f.Close()
}
