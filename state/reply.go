package state

import "fmt"

// Helpers to take apart script replies. The scripts return only arrays,
// integers and strings (never Lua false), because RESP2 and RESP3 clients
// see those the same way.

func replyArray(v interface{}, what string) ([]interface{}, error) {
	a, ok := v.([]interface{})
	if !ok {
		return nil, fmt.Errorf("state: %s: reply %T, want array", what, v)
	}
	return a, nil
}

func replyInt(v interface{}, what string) (int64, error) {
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("state: %s: reply %T, want integer", what, v)
	}
	return n, nil
}

func replyString(v interface{}, what string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("state: %s: reply %T, want string", what, v)
	}
	return s, nil
}

func replyStrings(v interface{}, what string) ([]string, error) {
	a, err := replyArray(v, what)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(a))
	for i, x := range a {
		if out[i], err = replyString(x, what); err != nil {
			return nil, err
		}
	}
	return out, nil
}
