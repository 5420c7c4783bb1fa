package deployments_test

import (
	"bufio"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const unitFile = "systemd/csp-processor.service"

// systemdUnit is a unit file's settings: section -> key -> values in file
// order (a key may repeat, as Environment does).
type systemdUnit map[string]map[string][]string

func parseUnit(t *testing.T, file string) systemdUnit {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := systemdUnit{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		case strings.HasSuffix(line, "\\"):
			t.Fatalf("%s:%d: a continued line; keep each setting on one", file, n)
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: %q is not key=value inside a section", file, n, line)
			}
			u[section][strings.TrimSpace(k)] = append(u[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// last is the value systemd applies for a key set once (the last one).
func (u systemdUnit) last(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// The systemd unit runs the processor binary hardened (a user of its own,
// no new privileges, a read-only system, restarted on failure) with its
// settings from an EnvironmentFile; every Environment= name, and every
// name of the example environment file, is a setting the processor reads,
// and every credential the environment points to is loaded. When
// systemd-analyze is installed it verifies the unit as systemd reads it.
func TestSystemdUnitRunsTheProcessorHardened(t *testing.T) {
	u := parseUnit(t, unitFile)
	for _, want := range []struct{ section, key, value string }{
		{"Service", "Restart", "on-failure"},
		{"Service", "NoNewPrivileges", "yes"},
		{"Service", "ProtectSystem", "strict"},
		{"Service", "ProtectHome", "yes"},
		{"Service", "PrivateTmp", "yes"},
		{"Service", "KillSignal", "SIGTERM"},
		{"Service", "CapabilityBoundingSet", ""},
		{"Install", "WantedBy", "multi-user.target"},
	} {
		if got, ok := u[want.section][want.key]; !ok || u.last(want.section, want.key) != want.value {
			t.Errorf("[%s] %s=%q, want %q", want.section, want.key, got, want.value)
		}
	}
	if u.last("Unit", "Description") == "" {
		t.Error("[Unit] has no Description")
	}
	if user := u.last("Service", "User"); u.last("Service", "DynamicUser") != "yes" && (user == "" || user == "root" || user == "0") {
		t.Errorf("neither DynamicUser=yes nor a dedicated User= (User=%q)", user)
	}
	exec0 := strings.Fields(u.last("Service", "ExecStart"))
	if len(exec0) != 1 || !path.IsAbs(exec0[0]) || path.Base(exec0[0]) != filepath.Base("../cmd/processor") {
		t.Errorf("ExecStart=%v; want the absolute path of the processor binary, without arguments (it takes none)", exec0)
	}
	envFile := u.last("Service", "EnvironmentFile")
	if envFile == "" || strings.HasPrefix(envFile, "-") {
		t.Errorf("EnvironmentFile=%q; want a required file (no '-': a missing one must stop the start)", envFile)
	}

	var names []string
	credentials := map[string]bool{}
	for _, c := range u["Service"]["LoadCredential"] {
		name, _, _ := strings.Cut(c, ":")
		credentials[name] = true
	}
	used := map[string]bool{}
	for _, e := range u["Service"]["Environment"] {
		for _, kv := range strings.Fields(e) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				t.Errorf("Environment=%s: not NAME=value", e)
				continue
			}
			names = append(names, k)
			if cred, ok := strings.CutPrefix(v, "%d/"); ok {
				if !credentials[cred] {
					t.Errorf("Environment=%s names credential %s, which no LoadCredential= loads", kv, cred)
				}
				used[cred] = true
			}
		}
	}
	for c := range credentials {
		if !used[c] {
			t.Errorf("LoadCredential=%s is loaded but no setting points to it", c)
		}
	}
	checkSettings(t, unitFile+" Environment=", names)

	example := strings.TrimSuffix(unitFile, "csp-processor.service") + "processor.env.example"
	var exampleNames []string
	for _, m := range regexp.MustCompile(`(?m)^([A-Za-z_][A-Za-z0-9_]*)=`).FindAllStringSubmatch(mustRead(t, example), -1) {
		exampleNames = append(exampleNames, m[1])
	}
	checkSettings(t, example, exampleNames)
	for _, n := range names {
		if slices.Contains(exampleNames, n) {
			t.Errorf("%s is set both in the unit and in %s; the unit's value would be overridden", n, example)
		}
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: the unit was parsed, not verified by systemd")
		return
	}
	// verify checks that ExecStart's binary exists: point it at one that does.
	dir := t.TempDir()
	unit := strings.Replace(mustRead(t, unitFile), "ExecStart="+exec0[0], "ExecStart=/bin/true", 1)
	if err := os.WriteFile(filepath.Join(dir, path.Base(unitFile)), []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", filepath.Join(dir, path.Base(unitFile))).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
