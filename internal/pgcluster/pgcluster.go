// Package pgcluster starts throwaway PostgreSQL clusters — a primary and
// streaming replicas made with pg_basebackup -R — from the server binaries
// installed on the machine, each in its own directory on its own loopback
// port. Tests and the soak bench use them where a database must be killed
// or restarted, which the shared server at 127.0.0.1:5432 never may be.
//
// PostgreSQL refuses to run as root: when the process is root, every
// command runs as the user "postgres" (runuser), which then owns the
// cluster's directory.
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrUnavailable means the machine has no PostgreSQL server binaries, or
// no user to run them as.
var ErrUnavailable = errors.New("pgcluster: no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) found")

// Cluster is one running (or stopped) PostgreSQL cluster.
type Cluster struct {
	// Dir holds the data directory, the log and the socket.
	Dir  string
	Port int
	bin  string
	// owner is the user the commands run as ("" for the current one).
	owner string
	uid   int
	gid   int
	// removeDir: Close removes Dir (it made it).
	removeDir bool
}

// BinDir returns the directory of the newest installed PostgreSQL server
// binaries.
func BinDir() (string, error) {
	var dirs []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(matches, func(i, j int) bool { return version(matches[i]) > version(matches[j]) })
	dirs = append(matches, dirs...)
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) && isExec(filepath.Join(d, "pg_basebackup")) {
			return d, nil
		}
	}
	return "", ErrUnavailable
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&0o111 != 0
}

// StartPrimary creates a new cluster in a fresh temporary directory and
// starts it on a free loopback port, ready to stream to replicas: trust
// authentication on loopback only, replication allowed, fsync off (the
// data is throwaway).
func StartPrimary(ctx context.Context) (*Cluster, error) {
	c, err := newCluster()
	if err != nil {
		return nil, err
	}
	if out, err := c.run(ctx, "initdb", "-D", c.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"); err != nil {
		c.removeAll()
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	conf := fmt.Sprintf(`
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = '%s'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
wal_keep_size = '256MB'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = '32MB'
max_connections = 100
logging_collector = off
`, c.Port, c.Dir)
	if err := c.appendConf(conf); err != nil {
		c.removeAll()
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		c.removeAll()
		return nil, err
	}
	return c, nil
}

// StartReplica clones the primary p with pg_basebackup -R into a fresh
// directory and starts it as a hot standby streaming from p, on its own
// port.
func (p *Cluster) StartReplica(ctx context.Context) (*Cluster, error) {
	c, err := newCluster()
	if err != nil {
		return nil, err
	}
	if out, err := c.run(ctx, "pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(p.Port), "-U", "postgres",
		"-D", c.data(), "-R", "-X", "stream", "-c", "fast", "--no-sync"); err != nil {
		c.removeAll()
		return nil, fmt.Errorf("pg_basebackup: %w\n%s", err, out)
	}
	// The copy carries the primary's settings; the last one wins.
	if err := c.appendConf(fmt.Sprintf("\nport = %d\nunix_socket_directories = '%s'\n", c.Port, c.Dir)); err != nil {
		c.removeAll()
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		c.removeAll()
		return nil, err
	}
	return c, nil
}

func newCluster() (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mcpa-pg-")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	c := &Cluster{Dir: dir, bin: bin, removeDir: true, uid: -1, gid: -1}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("%w: running as root and there is no user postgres to run PostgreSQL as", ErrUnavailable)
		}
		c.owner = u.Username
		c.uid, _ = strconv.Atoi(u.Uid)
		c.gid, _ = strconv.Atoi(u.Gid)
		if err := os.Chown(dir, c.uid, c.gid); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgcluster: %w", err)
		}
	}
	if c.Port, err = freePort(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

func (c *Cluster) data() string { return filepath.Join(c.Dir, "data") }

// Log returns the cluster's server log so far.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.Dir, "server.log"))
	return string(b)
}

// DSN returns a connection string for database db (default "postgres").
func (c *Cluster) DSN(db string) string {
	if db == "" {
		db = "postgres"
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// Start starts the (stopped) cluster and waits until it accepts
// connections.
func (c *Cluster) Start(ctx context.Context) error {
	if out, err := c.run(ctx, "pg_ctl", "-D", c.data(), "-l", filepath.Join(c.Dir, "server.log"), "-w", "-t", "60", "start"); err != nil {
		return fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, c.Log())
	}
	return nil
}

// Stop stops the cluster: mode "fast" ends sessions and shuts down
// cleanly; "immediate" kills it as a crash would (a replica killed).
func (c *Cluster) Stop(ctx context.Context, mode string) error {
	if out, err := c.run(ctx, "pg_ctl", "-D", c.data(), "-m", mode, "-w", "-t", "60", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop -m %s: %w\n%s", mode, err, out)
	}
	return nil
}

// Restart stops the cluster (fast) and starts it again.
func (c *Cluster) Restart(ctx context.Context) error {
	if err := c.Stop(ctx, "fast"); err != nil {
		return err
	}
	return c.Start(ctx)
}

// Close stops the cluster if it runs and removes its directory.
func (c *Cluster) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := os.Stat(filepath.Join(c.data(), "postmaster.pid")); err == nil {
		_ = c.Stop(ctx, "immediate")
	}
	c.removeAll()
}

func (c *Cluster) removeAll() {
	if c.removeDir {
		os.RemoveAll(c.Dir)
	}
}

// run runs one of the server binaries, as the cluster's owner.
func (c *Cluster) run(ctx context.Context, name string, args ...string) (string, error) {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.owner != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.owner, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = c.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// appendConf appends settings to the cluster's postgresql.conf.
func (c *Cluster) appendConf(s string) error {
	f, err := os.OpenFile(filepath.Join(c.data(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return nil
}

// freePort returns a loopback TCP port nobody listens on now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgcluster: find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
