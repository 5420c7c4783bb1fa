package messages

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// OperatorCall sends req (JSON) to an operator endpoint and decodes the
// answer into reply, or into the raw bytes when reply is a *[]byte. A micro
// error comes back as an *OperatorError; ctx bounds the wait.
func OperatorCall(ctx context.Context, nc *nats.Conn, subject string, req, reply any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("%s: encode the request: %w", subject, err)
	}
	m, err := nc.RequestWithContext(ctx, subject, body)
	if err != nil {
		return fmt.Errorf("%s: %w", subject, err)
	}
	if status := m.Header.Get(micro.ErrorCodeHeader); status != "" {
		e := &OperatorError{}
		if json.Unmarshal(m.Data, e) != nil || e.Code == "" {
			e = &OperatorError{Code: "error", Description: m.Header.Get(micro.ErrorHeader)}
		}
		e.Status = status
		return e
	}
	if raw, ok := reply.(*[]byte); ok {
		*raw = m.Data
		return nil
	}
	if err := json.Unmarshal(m.Data, reply); err != nil {
		return fmt.Errorf("%s: the answer is not what was expected: %w", subject, err)
	}
	return nil
}
