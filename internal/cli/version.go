package cli

import (
	"context"
	"fmt"
	"runtime"
)

func runVersion(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("version", env)
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "mcp-analytics %s (%s, %s/%s)\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
