package main

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/cspreseller/csp-processor/messages/bus/natsauth"
)

// runWith runs the command line with env as its whole environment.
func runWith(env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errs bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return env[k] }, &out, &errs)
	return code, out.String(), errs.String()
}

// `cspctl -h` lists every command and the connection settings and exits
// 0; a wrong command line exits 2 saying what is wrong, before connecting.
func TestUsageListsEveryCommandAndRefusesWrongCommandLines(t *testing.T) {
	code, out, _ := runWith(nil, "-h")
	if code != exitOK {
		t.Fatalf("-h: exit %d", code)
	}
	for _, c := range commands {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("-h does not list %q", c.name)
		}
	}
	for _, want := range []string{"NATS_URL", "NATS_CREDS", "NATS_TLS_CA", "_INBOX.operator", "credentials.env", "-json"} {
		if !strings.Contains(out, want) {
			t.Errorf("-h does not mention %s", want)
		}
	}
	if code, out, _ := runWith(nil, "dlq", "replay", "-h"); code != exitOK || !strings.Contains(out, "Nats-Msg-Id") {
		t.Errorf("dlq replay -h: exit %d\n%s", code, out)
	}
	for _, tc := range []struct {
		args []string
		says string
	}{
		{nil, "no command given"},
		{[]string{"customers"}, `unknown command "customers"`},
		{[]string{"dlq"}, "say list, show, replay or purge"},
		{[]string{"customer"}, "want <customer>"},
		{[]string{"reducible", "C-1"}, "want <customer> <subscription>"},
		{[]string{"dlq", "show", "seven"}, "is not a dead letter's sequence"},
		{[]string{"dlq", "purge"}, "want <seq> or -older-than T"},
		{[]string{"dlq", "purge", "-older-than", "last week"}, "neither an RFC 3339 time nor an age"},
		{[]string{"dlq", "purge", "-older-than", "30d", "7"}, "not both"},
		{[]string{"timers", "-limit", "many"}, "invalid value"},
	} {
		code, _, errs := runWith(nil, tc.args...)
		if code != exitUsage || !strings.Contains(errs, tc.says) {
			t.Errorf("cspctl %s: exit %d, want %d saying %q:\n%s", strings.Join(tc.args, " "), code, exitUsage, tc.says, errs)
		}
	}
}

// Without NATS_URL cspctl reaches the processor's embedded server as the
// operator with the password the processor generated; the shipped
// permissions let it ask the operator service (with no processor
// running, nobody answers), and a missing password file is named.
func TestWithoutNATSURLItUsesTheEmbeddedServersOperatorPassword(t *testing.T) {
	dir := t.TempDir()
	emb, err := natsauth.Start(natsauth.Options{DataDir: dir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emb.Server.Shutdown(); emb.Server.WaitForShutdown() })
	u, err := url.Parse(emb.Server.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATA_DIR": dir, "NATS_PORT": u.Port()}
	code, _, errs := runWith(env, "-timeout", "5s", "partitions")
	if code != exitError || !strings.Contains(errs, "no responders") {
		t.Fatalf("partitions with nobody serving: exit %d, %s", code, errs)
	}
	env["DATA_DIR"] = t.TempDir()
	code, _, errs = runWith(env, "partitions")
	if code != exitError || !strings.Contains(errs, "NATS_URL is not set") || !strings.Contains(errs, "credentials.env") {
		t.Fatalf("partitions without a password file: exit %d, %s", code, errs)
	}
}
