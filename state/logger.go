package state

import "log/slog"

// logFunc is the shape of CleanerOptions.Logger and RelayOptions.Logger.
// err is nil for informational messages.
type logFunc = func(msg string, err error)

// defaultLogger is used when no Logger is given: the background components
// must never fail silently.
func defaultLogger(msg string, err error) {
	if err != nil {
		slog.Error(msg, "err", err)
		return
	}
	slog.Info(msg)
}
