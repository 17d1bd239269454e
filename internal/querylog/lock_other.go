//go:build !unix

package querylog

import (
	"os"
	"strconv"
	"strings"
)

// lockFile does nothing where flock is missing: a spool file is then
// known to be live by the process id in its name.
func lockFile(*os.File) error { return nil }

// lockExisting opens path unless its name carries this process's id.
func lockExisting(path string) (*os.File, bool, error) {
	if strings.Contains(path, "-"+strconv.Itoa(os.Getpid())+spoolSuffix) {
		return nil, false, nil
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	return f, err == nil, err
}
