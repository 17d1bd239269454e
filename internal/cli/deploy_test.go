package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mcp-analytics/mcp-analytics/internal/pgtest"
)

// repoRoot is where the deployment files are.
const repoRoot = "../.."

// buildAsDockerfile builds the binary with the Dockerfile's own build
// command (same flags), into dir.
func buildAsDockerfile(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{"FROM golang:", " AS build", "\nUSER mcpa", "\nVOLUME [\"/data\"]", "\nHEALTHCHECK ", "/healthz", "COPY --from=build"} {
		if !strings.Contains(text, want) {
			t.Errorf("the Dockerfile has no %q", want)
		}
	}
	m := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=1 go build .*)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatal("the Dockerfile has no 'RUN CGO_ENABLED=1 go build' line")
	}
	bin := filepath.Join(dir, "mcp-analytics")
	build := strings.NewReplacer("${VERSION}", "v0.0.0-deploytest", "/out/mcp-analytics", bin).Replace(m[1])
	cmd := exec.Command("sh", "-c", build)
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, out)
	}
	return bin
}

// composeEnv expands the ${VAR}, ${VAR:-default} and ${VAR:?message}
// forms of a compose file from env.
func composeEnv(s string, env map[string]string) string {
	return regexp.MustCompile(`\$\{(\w+)(?::([-?])([^}]*))?\}`).ReplaceAllStringFunc(s, func(ref string) string {
		m := regexp.MustCompile(`\$\{(\w+)(?::([-?])([^}]*))?\}`).FindStringSubmatch(ref)
		if v, ok := env[m[1]]; ok && v != "" {
			return v
		}
		if m[2] == "-" {
			return m[3]
		}
		return ""
	})
}

// runBin runs the built binary and fails the test on a non-zero exit.
func runBin(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mcp-analytics %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// checkDeployment starts the binary as the deployment would (args and env),
// with a token made by the CLI, and checks the health checks pass and a
// tool call with the token answers; then SIGTERM stops it with exit 0.
func checkDeployment(t *testing.T, bin string, env []string, healthPath string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	token := strings.TrimSpace(strings.SplitN(runBin(t, bin, env, "tokens", "create", "--name", "claude", "--datasets", "all"), "\n", 2)[0])
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	var mu sync.Mutex
	endpoint := make(chan string, 1)
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			log.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := endpointRE.FindStringSubmatch(sc.Text()); m != nil {
				endpoint <- m[1]
			}
		}
		exited <- cmd.Wait()
	}()
	defer cmd.Process.Kill()
	var url string
	select {
	case url = <-endpoint:
	case err := <-exited:
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the server exited: %v\n%s", err, log.String())
	case <-time.After(60 * time.Second):
		t.Fatal("no endpoint within 60 s")
	}
	base := strings.TrimSuffix(url, "/mcp")
	for _, path := range []string{"/healthz", healthPath} {
		if code, body := get(t, base+path, ""); code != http.StatusOK {
			t.Errorf("GET %s = %d %q", path, code, body)
		}
	}
	if code, _ := get(t, base+"/mcp", ""); code != http.StatusUnauthorized {
		t.Errorf("/mcp without a token = %d, want 401 (the deployment must start locked)", code)
	}
	cs := connectAs(ctx, t, base, token, "deploy-test")
	md, isErr, err := callTool(ctx, cs, "list_available_datasets", nil)
	if err != nil || isErr || !strings.Contains(md, "Sample Dataset (PostgreSQL)") {
		t.Fatalf("list_available_datasets: %v %v\n%s", err, isErr, md)
	}
	id := regexp.MustCompile(`\| (\d+) +\| Sample Dataset \(PostgreSQL\)`).FindStringSubmatch(md)
	if id == nil {
		t.Fatalf("no id for the demo dataset in:\n%s", md)
	}
	md, isErr, err = callTool(ctx, cs, "query_dataset", map[string]any{"dataset_id": mustAtoi(id[1]), "query": "SELECT nccs, COUNT(*) FROM users GROUP BY nccs"})
	if err != nil || isErr || !strings.Contains(md, "weighted_count") || !strings.Contains(md, "C/D/E") {
		t.Errorf("query_dataset: %v %v\n%s", err, isErr, md)
	}
	cs.Close()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("no exit within 30 s of SIGTERM")
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(log.String(), token) {
		t.Error("the server printed the token")
	}
}

func mustAtoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

func randomKey(t *testing.T) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b[:])
}

// TestDeploy_ComposeAndRender builds the binary as the Dockerfile does and
// starts it with the environment compose.yaml and render.yaml give it
// (their PostgreSQL replaced by a test database): the demo loads into the
// catalog's PostgreSQL (twice: the second time does nothing), a token
// made with the CLI unlocks the server, the health checks pass and a tool
// call answers. No Docker daemon is needed.
func TestDeploy_ComposeAndRender(t *testing.T) {
	// Mostly waiting on child processes and PostgreSQL: overlap.
	t.Parallel()
	pgtest.Connect(context.Background(), t, pgtest.ServerURL()) // skips or fails loudly without PostgreSQL
	bin := buildAsDockerfile(t, t.TempDir())

	t.Run("compose", func(t *testing.T) {
		var compose struct {
			Services map[string]struct {
				Command     []string          `yaml:"command"`
				Environment map[string]string `yaml:"environment"`
				Ports       []string          `yaml:"ports"`
			} `yaml:"services"`
		}
		data, err := os.ReadFile(filepath.Join(repoRoot, "compose.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(data, &compose); err != nil {
			t.Fatal(err)
		}
		svc, demoSvc := compose.Services["mcp-analytics"], compose.Services["demo"]
		if len(svc.Command) == 0 || len(demoSvc.Command) == 0 {
			t.Fatalf("compose.yaml: services mcp-analytics and demo need a command: %+v", compose.Services)
		}
		if !strings.HasPrefix(svc.Environment["MCPA_STORE"], "postgres://") {
			t.Fatalf("compose.yaml: the server's catalog is not PostgreSQL: %q", svc.Environment["MCPA_STORE"])
		}
		host := map[string]string{"MCPA_SECRET_KEY": randomKey(t)}
		env := append(os.Environ()[:0:0], "HOME="+t.TempDir(), "PATH="+os.Getenv("PATH"))
		for k, v := range svc.Environment {
			v = composeEnv(v, host)
			switch k {
			case "MCPA_STORE":
				v = pgtest.NewDatabase(t) // the compose file's db service
			case "MCPA_DATA_DIR":
				v = t.TempDir() // the data volume
			case "MCPA_LISTEN":
				v = strings.Replace(v, ":8000", ":0", 1)
			}
			env = append(env, k+"="+v)
		}
		for _, k := range []string{"MCPA_STORE", "MCPA_SECRET_KEY", "MCPA_DATA_DIR"} {
			if composeEnv(demoSvc.Environment[k], host) == "" {
				t.Errorf("compose.yaml: the demo service lacks %s", k)
			}
		}
		runBin(t, bin, env, demoSvc.Command...)
		if out := runBin(t, bin, env, demoSvc.Command...); !strings.Contains(out, "already loaded") {
			t.Errorf("a second demo load did not say it had nothing to do:\n%s", out)
		}
		checkDeployment(t, bin, env, "/readyz", svc.Command...)
	})

	t.Run("render", func(t *testing.T) {
		var bp struct {
			Services []struct {
				Type             string `yaml:"type"`
				Runtime          string `yaml:"runtime"`
				HealthCheckPath  string `yaml:"healthCheckPath"`
				PreDeployCommand string `yaml:"preDeployCommand"`
				DockerCommand    string `yaml:"dockerCommand"`
				EnvVars          []struct {
					Key           string `yaml:"key"`
					Value         string `yaml:"value"`
					GenerateValue bool   `yaml:"generateValue"`
					FromDatabase  *struct {
						Name     string `yaml:"name"`
						Property string `yaml:"property"`
					} `yaml:"fromDatabase"`
				} `yaml:"envVars"`
			} `yaml:"services"`
			Databases []struct {
				Name string `yaml:"name"`
			} `yaml:"databases"`
		}
		data, err := os.ReadFile(filepath.Join(repoRoot, "render.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(data, &bp); err != nil {
			t.Fatal(err)
		}
		if len(bp.Services) != 1 || bp.Services[0].Type != "web" || bp.Services[0].Runtime != "docker" || len(bp.Databases) != 1 {
			t.Fatalf("render.yaml: want one docker web service and one database: %+v", bp)
		}
		svc := bp.Services[0]
		env := []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "MCPA_DATA_DIR=" + t.TempDir()} // the image's ENV
		generated := false
		for _, ev := range svc.EnvVars {
			v := ev.Value
			switch {
			case ev.FromDatabase != nil:
				if ev.FromDatabase.Name != bp.Databases[0].Name || ev.FromDatabase.Property != "connectionString" {
					t.Errorf("render.yaml: %s from %+v", ev.Key, ev.FromDatabase)
				}
				v = pgtest.NewDatabase(t)
			case ev.GenerateValue:
				v = randomKey(t) // Render generates 256 random bits, base64
				generated = generated || ev.Key == "MCPA_SECRET_KEY"
			case ev.Key == "MCPA_LISTEN":
				v = strings.Replace(v, ":8000", ":0", 1)
			}
			env = append(env, ev.Key+"="+v)
		}
		if !generated {
			t.Error("render.yaml: MCPA_SECRET_KEY is not generated")
		}
		pre := strings.Fields(svc.PreDeployCommand)
		run := strings.Fields(svc.DockerCommand)
		if len(pre) < 2 || pre[0] != "mcp-analytics" || len(run) < 2 || run[0] != "mcp-analytics" {
			t.Fatalf("render.yaml: preDeployCommand %q and dockerCommand %q should run mcp-analytics", svc.PreDeployCommand, svc.DockerCommand)
		}
		runBin(t, bin, env, pre[1:]...)
		checkDeployment(t, bin, env, svc.HealthCheckPath, run[1:]...)
	})
}
