package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cluster is a PostgreSQL server of one test's own: initdb in a temporary
// directory, listening on a free loopback port. The test may stop and
// start it, to see what happens while a database is away, without
// touching the shared server the other tests use.
type Cluster struct {
	bin  string // directory of initdb, pg_ctl
	dir  string // data directory and socket
	port int
	as   []string // runuser prefix when running as root
}

// NewCluster creates and starts a cluster, stopped and removed when the
// test ends. Without PostgreSQL's server programs
// (/usr/lib/postgresql/*/bin) the test skips loudly, or fails when
// MCPA_REQUIRE_POSTGRES=1.
func NewCluster(tb testing.TB) *Cluster {
	tb.Helper()
	bin := serverBin()
	if bin == "" {
		msg := "pgtest: PostgreSQL's server programs (initdb, pg_ctl) are not installed under /usr/lib/postgresql/*/bin"
		if Required() {
			tb.Fatal(msg + " [MCPA_REQUIRE_POSTGRES=1: failing instead of skipping]")
		}
		fmt.Fprintln(os.Stderr, "!!!!!!!! SKIPPING DATABASE TEST: "+msg)
		tb.Skip(msg)
	}
	// Not t.TempDir: its parent is private to root, and PostgreSQL refuses
	// to run as root, so the server runs as the postgres user.
	dir, err := os.MkdirTemp("", "mcpa-pgcluster-")
	if err != nil {
		tb.Fatal(err)
	}
	c := &Cluster{bin: bin, dir: dir, port: freePort(tb)}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			tb.Fatalf("pgtest: running as root needs a postgres user to run the cluster: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			tb.Fatal(err)
		}
		c.as = []string{"runuser", "-u", "postgres", "--"}
	}
	tb.Cleanup(func() {
		c.pgctl("stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	if out, err := c.cmd(filepath.Join(bin, "initdb"), "-D", c.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions").CombinedOutput(); err != nil {
		tb.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}
	c.Start(tb)
	return c
}

// serverBin returns the newest /usr/lib/postgresql/N/bin holding pg_ctl.
func serverBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d
		}
	}
	return ""
}

func freePort(tb testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

func (c *Cluster) cmd(name string, args ...string) *exec.Cmd {
	full := append(append(append([]string{}, c.as...), name), args...)
	return exec.Command(full[0], full[1:]...)
}

func (c *Cluster) pgctl(args ...string) ([]byte, error) {
	args = append([]string{"-D", c.data(), "-w", "-t", "60"}, args...)
	return c.cmd(filepath.Join(c.bin, "pg_ctl"), args...).CombinedOutput()
}

// URL returns the URL of database db (postgres when "") on the cluster.
func (c *Cluster) URL(db string) string {
	if db == "" {
		db = "postgres"
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start(tb testing.TB) {
	tb.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off", c.port, c.dir)
	if out, err := c.pgctl("start", "-l", filepath.Join(c.dir, "server.log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
		tb.Fatalf("pgtest: start the cluster: %v\n%s\n%s", err, out, log)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := Connect(ctx, tb, c.URL(""))
	conn.Close(ctx)
}

// Stop stops the server (fast shutdown: sessions are ended).
func (c *Cluster) Stop(tb testing.TB) {
	tb.Helper()
	if out, err := c.pgctl("stop", "-m", "fast"); err != nil && !strings.Contains(string(out), "not running") {
		tb.Fatalf("pgtest: stop the cluster: %v\n%s", err, out)
	}
}
