package handlers

import (
	"context"
	"errors"
)

// component is the shape every background part of the processor shares:
// the outbox cleaner and relay, the scheduler, the query service and the
// lease keeper. Start begins its work (once); Shutdown ends it within
// ctx's deadline and returns ctx's error when it could not, and is safe on
// a component that was never started.
type component interface {
	Start() error
	Shutdown(ctx context.Context) error
}

// startAll starts cs in order. When one fails, those already started are
// shut down again, in reverse order, before the error is returned.
func startAll(ctx context.Context, cs ...component) error {
	for i, c := range cs {
		if err := c.Start(); err != nil {
			return errors.Join(err, shutdownAll(ctx, cs[:i]...))
		}
	}
	return nil
}

// shutdownAll shuts cs down in reverse order (the last started first) and
// joins their errors.
func shutdownAll(ctx context.Context, cs ...component) error {
	var errs []error
	for i := len(cs) - 1; i >= 0; i-- {
		errs = append(errs, cs[i].Shutdown(ctx))
	}
	return errors.Join(errs...)
}
