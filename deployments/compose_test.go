package deployments_test

import (
	"bytes"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/cspreseller/csp-processor/deployments"
	"github.com/cspreseller/csp-processor/messages/bus/natsauth"
)

// composeFile is the part of the Compose specification compose.yaml uses;
// decoding refuses any other key, so a misspelt one fails the test.
type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image           string            `yaml:"image"`
	Build           *composeBuild     `yaml:"build"`
	Command         []string          `yaml:"command"`
	Environment     map[string]string `yaml:"environment"`
	Volumes         []string          `yaml:"volumes"`
	Ports           []string          `yaml:"ports"`
	DependsOn       []string          `yaml:"depends_on"`
	Profiles        []string          `yaml:"profiles"`
	WorkingDir      string            `yaml:"working_dir"`
	Restart         string            `yaml:"restart"`
	StopGracePeriod string            `yaml:"stop_grace_period"`
}

type composeBuild struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
	Target     string `yaml:"target"`
}

// composeSecrets are the files of deployments/secrets the operator makes
// (deployments/README.md, "Docker Compose"); the repository has none.
var composeSecrets = []string{"ca.crt", "nats.crt", "nats.key", "users.acl"}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var c composeFile
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return c
}

// mounts maps each bind-mounted container path of s to the file of the
// repository (relative to deployments/) it comes from; named volumes map
// to "volume:<name>".
func mounts(t *testing.T, c composeFile, name string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, v := range c.Services[name].Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || len(parts) > 3 || len(parts) == 3 && parts[2] != "ro" {
			t.Errorf("%s: volume %q: want source:target[:ro]", name, v)
			continue
		}
		src, dst := parts[0], parts[1]
		if !strings.HasPrefix(src, ".") {
			if _, ok := c.Volumes[src]; !ok {
				t.Errorf("%s: volume %q is not declared under volumes", name, src)
			}
			out[dst] = "volume:" + src
			continue
		}
		if len(parts) != 3 {
			t.Errorf("%s: %s is mounted writable; configuration and secrets are read-only", name, src)
		}
		out[dst] = path.Clean(src)
	}
	return out
}

// The compose file runs NATS and Redis with the shipped configuration
// files, the processor's image and a one-shot simulator: every file a
// service mounts or builds from exists (or is one of the operator's
// documented secrets), NATS gets every variable its configuration reads,
// Redis runs the shipped redis.conf with its ACL file and data directory,
// and the processor's and the simulator's environment names are settings
// the processor reads, so renaming a setting fails here.
func TestComposeRunsTheShippedConfigurations(t *testing.T) {
	c := loadCompose(t)
	for _, s := range []string{"nats", "redis", "processor", "simulator"} {
		if _, ok := c.Services[s]; !ok {
			t.Fatalf("compose.yaml has no service %q", s)
		}
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	stages := map[string]bool{}
	for _, st := range parseDockerfile(t, "Dockerfile") {
		stages[st.name] = true
	}
	for name, s := range c.Services {
		for dst, src := range mounts(t, c, name) {
			if strings.HasPrefix(src, "volume:") {
				continue
			}
			if secret, ok := strings.CutPrefix(src, "secrets/"); ok {
				if !slices.Contains(composeSecrets, secret) || !bytes.Contains(readme, []byte("secrets/"+secret)) {
					t.Errorf("%s mounts %s at %s: not a secret deployments/README.md tells the operator to make", name, src, dst)
				}
				continue
			}
			if _, err := os.Stat(src); err != nil {
				t.Errorf("%s mounts %s: %v", name, src, err)
			}
		}
		if b := s.Build; b != nil {
			if _, err := os.Stat(filepath.Join(b.Context, b.Dockerfile)); err != nil || b.Context != ".." {
				t.Errorf("%s builds from %s in context %q: %v (the context is the repository's root)", name, b.Dockerfile, b.Context, err)
			}
			if b.Target != "" && !stages[b.Target] {
				t.Errorf("%s builds the target %s, which the Dockerfile has no stage for", name, b.Target)
			}
		}
		if s.Image == "" || (s.Build == nil && !regexp.MustCompile(`:\d+\.\d+\.\d+`).MatchString(s.Image)) {
			t.Errorf("%s: image %q; a server image must be pinned to a release", name, s.Image)
		}
	}

	// NATS: the shipped single-node.conf and the accounts.conf it includes
	// from its own directory, with every variable they read; the release
	// the tests run.
	nats := c.Services["nats"]
	m := mounts(t, c, "nats")
	conf := ""
	for i, arg := range nats.Command {
		if arg == "-c" && i+1 < len(nats.Command) {
			conf = nats.Command[i+1]
		}
	}
	if m[conf] != "nats/single-node.conf" || m[path.Join(path.Dir(conf), "accounts.conf")] != "nats/accounts.conf" {
		t.Errorf("nats runs %q; want the shipped nats/single-node.conf beside nats/accounts.conf (mounts %v)", conf, m)
	}
	single, err := os.ReadFile("nats/single-node.conf")
	if err != nil {
		t.Fatal(err)
	}
	vars := natsauth.Variables(deployments.NATSAccounts)
	for _, v := range regexp.MustCompile(`\$([A-Z][A-Z0-9_]+)`).FindAllStringSubmatch(string(single), -1) {
		vars = append(vars, v[1])
	}
	for _, v := range vars {
		if nats.Environment[v] == "" {
			t.Errorf("nats: %s is not set; the server refuses a configuration with an undefined variable", v)
		}
		if path, ok := strings.CutPrefix(v, "CSP_NATS_TLS_"); ok && m[nats.Environment[v]] == "" {
			t.Errorf("nats: %s=%s is not a mounted file (%s)", v, nats.Environment[v], path)
		}
	}
	if want := "nats:" + goModVersion(t, "github.com/nats-io/nats-server/v2"); nats.Image != want {
		t.Errorf("nats runs %s; want %s, the release go.mod names and the tests run", nats.Image, want)
	}

	// Redis: the shipped redis.conf, its ACL file, its data directory as a
	// volume and as the working directory the image hands to its user.
	redis := c.Services["redis"]
	m = mounts(t, c, "redis")
	if len(redis.Command) < 2 || redis.Command[0] != "redis-server" || m[redis.Command[1]] != "redis/redis.conf" {
		t.Errorf("redis runs %v; want redis-server with the shipped redis/redis.conf", redis.Command)
	}
	redisConf := redisConfig(t, "redis/redis.conf")
	if m[redisConf["aclfile"]] != "secrets/users.acl" {
		t.Errorf("redis.conf's aclfile %s is not the mounted secrets/users.acl", redisConf["aclfile"])
	}
	if dir := redisConf["dir"]; !strings.HasPrefix(m[dir], "volume:") || redis.WorkingDir != dir {
		t.Errorf("redis.conf's dir %s: mounted %q, working_dir %q; want a volume and the working directory", dir, m[dir], redis.WorkingDir)
	}

	// The processor and the simulator: settings only, each as its own NATS
	// user with the TLS CA mounted; simulation mode off unless asked for.
	proc := c.Services["processor"]
	names := slices.Sorted(maps.Keys(proc.Environment))
	checkSettings(t, "compose.yaml processor", names)
	if u := urlUser(t, proc.Environment["NATS_URL"]); u != natsauth.ProcessorUser {
		t.Errorf("the processor connects to NATS as %q", u)
	}
	if u := urlUser(t, proc.Environment["REDIS_URL"]); u != "processor" {
		t.Errorf("the processor connects to Redis as %q, not the ACL user processor", u)
	}
	if m := mounts(t, c, "processor"); m[proc.Environment["NATS_TLS_CA"]] != "secrets/ca.crt" {
		t.Errorf("the processor's NATS_TLS_CA %s is not the mounted secrets/ca.crt", proc.Environment["NATS_TLS_CA"])
	}
	if v := proc.Environment["SIMULATION"]; v != "${CSP_SIMULATION:-0}" {
		t.Errorf("the processor's SIMULATION is %q; want off unless CSP_SIMULATION=1", v)
	}
	sim := c.Services["simulator"]
	checkSettings(t, "compose.yaml simulator", slices.Sorted(maps.Keys(sim.Environment)))
	if !slices.Contains(sim.Profiles, "simulate") || sim.Restart != "no" {
		t.Errorf("the simulator runs in profiles %v with restart %q; want a one-shot run in the simulate profile", sim.Profiles, sim.Restart)
	}
	if sim.Environment["NATS_INBOX_PREFIX"] != natsauth.InboxPrefix(natsauth.SimulatorUser) {
		t.Errorf("the simulator's NATS_INBOX_PREFIX %q is not the one its permissions allow", sim.Environment["NATS_INBOX_PREFIX"])
	}
	help, err := exec.Command("go", "run", "../cmd/simulator", "load", "-h").CombinedOutput()
	if !strings.Contains(string(help), "-processor") {
		t.Fatalf("simulator load -h: %v\n%s", err, help)
	}
	for _, arg := range sim.Command[1:] {
		flag, value, _ := strings.Cut(strings.TrimPrefix(arg, "-"), "=")
		if !strings.Contains(string(help), "  -"+flag+" ") {
			t.Errorf("the simulator's command passes -%s, which simulator load does not take", flag)
		}
		if flag == "nats" && urlUser(t, value) != natsauth.SimulatorUser {
			t.Errorf("the simulator connects to NATS as %q", urlUser(t, value))
		}
	}
	if sim.Command[0] != "load" || !slices.Contains(sim.Command, "-processor=external") {
		t.Errorf("the simulator runs %v; want a load against the external processor", sim.Command)
	}

	// Every variable compose.yaml reads is explained to the operator.
	for _, v := range regexp.MustCompile(`\$\{([A-Z][A-Z0-9_]*)`).FindAllStringSubmatch(mustRead(t, "compose.yaml"), -1) {
		if !bytes.Contains(readme, []byte("`"+v[1]+"`")) {
			t.Errorf("compose.yaml reads ${%s}, which deployments/README.md does not explain", v[1])
		}
	}
}

// redisConfig reads a Redis configuration's directives (the last of each).
func redisConfig(t *testing.T, file string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, line := range strings.Split(mustRead(t, file), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok && !strings.HasPrefix(k, "#") {
			got[k] = strings.TrimSpace(v)
		}
	}
	return got
}

// urlUser is the user of a URL whose password is a compose variable.
func urlUser(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(regexp.MustCompile(`\$\{[^}]*\}`).ReplaceAllString(raw, "pw"))
	if err != nil || u.User == nil {
		t.Errorf("%q: no user in the URL (%v)", raw, err)
		return ""
	}
	return u.User.Username()
}

func mustRead(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
