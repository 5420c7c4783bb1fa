package deployments_test

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// dockerStage is one FROM of a Dockerfile and the instructions under it.
type dockerStage struct {
	image, name  string
	instructions []dockerInstruction
}

type dockerInstruction struct {
	keyword string   // upper case: COPY, RUN, ...
	flags   []string // --from=build, --mount=...
	args    []string // the rest, split on spaces (JSON form left as written)
	line    string
}

// parseDockerfile reads a Dockerfile's stages: comments and blank lines
// left out, lines ending in a backslash joined with the next.
func parseDockerfile(t *testing.T, file string) []dockerStage {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var stages []dockerStage
	var logical string
	for _, raw := range strings.Split(string(b), "\n") {
		l := strings.TrimSpace(raw)
		if logical == "" && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if cont, ok := strings.CutSuffix(l, "\\"); ok {
			logical += cont + " "
			continue
		}
		logical += l
		fields := strings.Fields(logical)
		in := dockerInstruction{keyword: strings.ToUpper(fields[0]), line: logical}
		for _, f := range fields[1:] {
			if strings.HasPrefix(f, "--") && len(in.args) == 0 {
				in.flags = append(in.flags, f)
			} else {
				in.args = append(in.args, f)
			}
		}
		logical = ""
		if in.keyword == "FROM" {
			st := dockerStage{image: in.args[0]}
			if len(in.args) == 3 && strings.EqualFold(in.args[1], "AS") {
				st.name = in.args[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("%s: %q before the first FROM", file, in.line)
		}
		stages[len(stages)-1].instructions = append(stages[len(stages)-1].instructions, in)
	}
	if logical != "" {
		t.Fatalf("%s ends inside a continued line", file)
	}
	return stages
}

// goModVersion is the version of the go directive or of a required module
// in go.mod.
func goModVersion(t *testing.T, module string) string {
	t.Helper()
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if module == "go" && len(f) == 2 && f[0] == "go" {
			return f[1]
		}
		if len(f) >= 2 && (f[0] == module || f[0] == "require" && len(f) >= 3 && f[1] == module) {
			return strings.TrimPrefix(f[len(f)-1], "v")
		}
	}
	t.Fatalf("go.mod names no %s", module)
	return ""
}

// The processor's image: built by the Go release go.mod names, a static
// binary (CGO_ENABLED=0) in a final stage on distroless/static or scratch
// that holds the processor alone and runs it as a user other than root;
// every file the build copies exists, and the build copies every package
// the processor is built from.
func TestDockerfileBuildsAStaticNonRootProcessorImage(t *testing.T) {
	stages := parseDockerfile(t, "Dockerfile")
	if len(stages) < 2 {
		t.Fatalf("%d stages; want a builder and a final image", len(stages))
	}
	byName := map[string]dockerStage{}
	for _, st := range stages {
		byName[st.name] = st
	}
	builder := stages[0]
	if want := "golang:" + goModVersion(t, "go"); !strings.HasPrefix(builder.image, want) {
		t.Errorf("the builder is %s, want %s (go.mod's go)", builder.image, want)
	}

	final := stages[len(stages)-1]
	if !strings.HasPrefix(final.image, "gcr.io/distroless/static") && final.image != "scratch" {
		t.Errorf("the final image is based on %s, want distroless/static or scratch", final.image)
	}
	var users, copied, entry []string
	for _, in := range final.instructions {
		switch in.keyword {
		case "USER":
			users = append(users, in.args[0])
		case "COPY":
			if !slices.ContainsFunc(in.flags, func(f string) bool { return strings.HasPrefix(f, "--from=") }) {
				t.Errorf("the final stage copies from the build context: %s", in.line)
			}
			copied = append(copied, in.args[:len(in.args)-1]...)
		case "ENTRYPOINT", "CMD":
			entry = in.args
		case "RUN", "ADD":
			t.Errorf("the final stage runs or adds something: %s", in.line)
		}
	}
	if len(users) == 0 {
		t.Error("the final stage sets no USER: it would run as root")
	}
	for _, u := range users {
		if name, _, _ := strings.Cut(u, ":"); name == "root" || name == "0" {
			t.Errorf("the final stage runs as %s", u)
		}
	}
	if len(copied) != 1 || path.Base(copied[0]) != "processor" {
		t.Errorf("the final stage copies %v; want the processor binary alone", copied)
	}
	if len(entry) == 0 || path.Base(strings.Trim(entry[0], `["],`)) != "processor" {
		t.Errorf("the final stage's entrypoint is %v; want the processor", entry)
	}

	// Every go build is static, and what each stage copies from the
	// context exists; the stages a COPY --from or FROM names exist.
	var contextDirs []string
	builds := 0
	for _, st := range stages {
		if !strings.ContainsAny(st.image, ":/") && st.image != "scratch" && byName[st.image].name == "" {
			t.Errorf("FROM %s: neither an image with a tag nor a stage", st.image)
		}
		for _, in := range st.instructions {
			if in.keyword == "RUN" && strings.Contains(in.line, "go build") {
				builds++
				if !strings.Contains(in.line, "CGO_ENABLED=0") {
					t.Errorf("a go build without CGO_ENABLED=0: %s", in.line)
				}
			}
			if in.keyword != "COPY" {
				continue
			}
			if i := slices.IndexFunc(in.flags, func(f string) bool { return strings.HasPrefix(f, "--from=") }); i >= 0 {
				if from := strings.TrimPrefix(in.flags[i], "--from="); byName[from].name == "" {
					t.Errorf("COPY --from=%s: no such stage", from)
				}
				continue
			}
			for _, src := range in.args[:len(in.args)-1] {
				if _, err := os.Stat(filepath.Join("..", src)); err != nil {
					t.Errorf("COPY %s: not in the repository (%v)", src, err)
				}
				contextDirs = append(contextDirs, strings.Trim(path.Clean(src), "/"))
			}
		}
	}
	if builds == 0 {
		t.Error("no go build in the Dockerfile")
	}
	out, err := exec.Command("go", "list", "-deps", "-f", `{{if .Module}}{{if .Module.Main}}{{.ImportPath}}{{end}}{{end}}`, "../cmd/processor").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		dir, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(pkg, "github.com/cspreseller/csp-processor"), "/"), "/")
		if dir != "" && !slices.Contains(contextDirs, dir) {
			t.Errorf("the processor needs %s, but the Dockerfile does not copy %s/", pkg, dir)
		}
	}

	// The context is the repository's root: the operator's secrets for
	// compose.yaml and the processor's local data stay out of it.
	ignore, err := os.ReadFile("Dockerfile.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"deployments/secrets", "deployments/.env", "data"} {
		if !slices.Contains(strings.Fields(string(ignore)), want) {
			t.Errorf("Dockerfile.dockerignore does not exclude %s", want)
		}
	}
}
