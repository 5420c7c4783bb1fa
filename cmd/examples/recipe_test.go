// Package examples holds the test of the README's recipe "Send your own
// command": the processor run as `make serve` runs it, the publisher and
// billing examples beside this file, and the nats CLI, each as the recipe
// says, against the shipped NATS users and permissions.
package examples

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/simulator/standalone"
)

// The recipe's commands, as the README shows them, block by block (a line
// ending in a backslash goes on on the next). The test runs these, so the
// README must hold them unchanged: TestRecipe fails when they differ.
var recipe = [][]string{
	{"make serve"},
	{
		"set -a; . ./data/nats-auth/credentials.env; set +a",
		"NATS_PASSWORD=$CSP_BILLING_PASSWORD go run ./cmd/examples/billing",
	},
	{
		"set -a; . ./data/nats-auth/credentials.env; set +a",
		"CUSTOMER=C-$(date +%s)",
		"NATS_PASSWORD=$CSP_PARTNER_P_1001_PASSWORD go run ./cmd/examples/publisher -customer $CUSTOMER",
		"go install " + natsCLI,
		`NATS_PASSWORD=$CSP_PARTNER_P_1001_PASSWORD nats -s nats://127.0.0.1:4333 --user partner-P-1001 --inbox-prefix _INBOX.partner-P-1001 ` +
			`pub --jetstream -H "Nats-Msg-Id:$CUSTOMER:order-2" "csp.cmd.P-1001.admin_agent.$CUSTOMER.order.placed" ` +
			`'{"id":"order-2","type":"order.placed","schema_version":1,"customer_id":"'$CUSTOMER'","data":{"order_id":"O-'$CUSTOMER'-2","lines":[{"line_id":"L1","offer_id":"CFQ7TTC0LH18:0001","quantity":5,"term":"P1Y","billing_frequency":"annual"}]}}'`,
	},
}

// natsCLI is the nats CLI the recipe installs: the newest release that
// builds with this module's Go.
const natsCLI = "github.com/nats-io/natscli/nats@v0.5.0"

const (
	offer       = "CFQ7TTC0LH18:0001" // Microsoft 365 Business Basic, P1Y billed annually
	defaultNATS = "nats://127.0.0.1:4333"
)

// The recipe works as written: the billing example prints the charge of
// the publisher's order (10 licenses) and of the nats CLI's (5), each the
// catalog's annual price times the licenses, in minor units, and stops
// cleanly on SIGTERM; every command goes through the shipped users'
// permissions (partner-P-1001 sends, billing reads).
func TestRecipe(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	readmeBlocks := recipeBlocks(t)
	if fmt.Sprint(readmeBlocks) != fmt.Sprint(recipe) {
		t.Fatalf("the README's recipe is not the one this test runs:\nREADME: %q\ntest:   %q", readmeBlocks, recipe)
	}
	mk, err := os.ReadFile("../../Makefile")
	if err != nil || !strings.Contains(string(mk), "\nserve:\n\t$(GO) run ./cmd/processor\n") {
		t.Fatalf("make serve is no longer the processor with its defaults (%v)", err)
	}
	price := annualPrice(t)

	// make serve: the processor binary with its defaults, its data in a
	// directory of the test's and its NATS on a free port.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	proc, err := standalone.Start(ctx, standalone.Options{DataDir: dataDir, Env: []string{"NATS_PORT=-1", "LOG_LEVEL=warn"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := proc.Stop(); err != nil {
			t.Errorf("processor: %v\n%s", err, proc.Output())
		}
	})
	bin := t.TempDir()
	for _, name := range []string{"billing", "publisher"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, name), "./"+name).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", name, err, out)
		}
	}
	install := exec.CommandContext(ctx, "bash", "-c", recipe[2][3])
	install.Env = append(os.Environ(), "GOBIN="+bin)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", recipe[2][3], err, out)
	}
	// The recipe as written but for where the processor is: its data
	// directory and URL, and the examples built beforehand.
	local := strings.NewReplacer("./data/", dataDir+"/", defaultNATS, proc.URL,
		"go run ./cmd/examples/billing", "exec "+filepath.Join(bin, "billing")+" -nats "+proc.URL,
		"go run ./cmd/examples/publisher", filepath.Join(bin, "publisher")+" -nats "+proc.URL)
	script := func(lines []string) *exec.Cmd {
		c := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", local.Replace(strings.Join(lines, "\n")))
		c.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		return c
	}

	billing := script(recipe[1])
	billingOut := startLines(t, billing)
	billingOut.await(t, "consumer billing: waiting", 30*time.Second)

	send := script(append(append([]string{}, recipe[2][:2]...), `echo "customer $CUSTOMER"`, recipe[2][2], recipe[2][4]))
	out, err := send.CombinedOutput()
	if err != nil {
		t.Fatalf("sending the recipe's commands: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^customer (C-\d+)$`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no customer in:\n%s", out)
	}
	customer := string(m[1])
	for _, want := range []string{`order.processed {"order_id":"O-` + customer + `","status":"completed"`, "Stored in Stream: CSP_COMMANDS"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("the publisher or the nats CLI did not print %q:\n%s", want, out)
		}
	}
	for _, licenses := range []int64{10, 5} {
		billingOut.await(t, fmt.Sprintf("billing.charge partner=P-1001 customer=%s subscription=sub-", customer)+
			fmt.Sprintf(".* amount_minor=%d currency=USD quantity=%d offer=%s ", licenses*price, licenses, offer), 30*time.Second)
	}
	if err := billing.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := billingOut.wait(); err != nil {
		t.Fatalf("billing did not stop cleanly on SIGTERM: %v\n%s", err, billingOut)
	}
}

// annualPrice is the catalog's price of one license of offer for a year.
func annualPrice(t *testing.T) int64 {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	o, ok := cat.Offer(offer)
	if !ok {
		t.Fatalf("the catalog has no %s", offer)
	}
	for _, p := range o.Plans {
		if p.Term == "P1Y" && p.BillingFrequency == "annual" && p.Prices["USD"] > 0 {
			return p.Prices["USD"]
		}
	}
	t.Fatalf("%s has no annual USD price", offer)
	return 0
}

// recipeBlocks reads the README's "Send your own command" section: its sh
// blocks' lines, comments and blank lines left out, continuations joined.
func recipeBlocks(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const heading = "\n## Send your own command\n"
	start := strings.Index(string(b), heading)
	if start < 0 {
		t.Fatal(`the README has no section "Send your own command"`)
	}
	section := string(b)[start+len(heading):]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var blocks [][]string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1) {
		var lines []string
		for _, l := range strings.Split(strings.ReplaceAll(m[1], "\\\n", ""), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, strings.Join(strings.Fields(l), " "))
			}
		}
		blocks = append(blocks, lines)
	}
	return blocks
}

// lines is a running command's output, line by line.
type lines struct {
	cmd    *exec.Cmd
	ch     chan string
	seen   []string
	exited chan error
}

// startLines starts cmd and collects its output; the test kills it at the
// end if it still runs.
func startLines(t *testing.T, cmd *exec.Cmd) *lines {
	t.Helper()
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l := &lines{cmd: cmd, ch: make(chan string, 1024), exited: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			l.ch <- sc.Text()
		}
		close(l.ch)
	}()
	go func() { err := cmd.Wait(); _ = pw.Close(); l.exited <- err }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return l
}

// await waits until a line matches the regular expression pattern.
func (l *lines) await(t *testing.T, pattern string, within time.Duration) {
	t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.After(within)
	for _, s := range l.seen {
		if re.MatchString(s) {
			return
		}
	}
	for {
		select {
		case s, ok := <-l.ch:
			if !ok {
				t.Fatalf("the output ended without a line matching %q:\n%s", pattern, l)
			}
			l.seen = append(l.seen, s)
			if re.MatchString(s) {
				return
			}
		case <-deadline:
			t.Fatalf("no line matching %q within %v:\n%s", pattern, within, l)
		}
	}
}

// wait returns the command's exit error once it exited (within 20 s).
func (l *lines) wait() error {
	select {
	case err := <-l.exited:
		return err
	case <-time.After(20 * time.Second):
		return fmt.Errorf("still running after 20 s")
	}
}

func (l *lines) String() string { return strings.Join(l.seen, "\n") }
