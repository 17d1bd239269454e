package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mcp-analytics/mcp-analytics/internal/auth"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/config"
)

const tokensHint = "mcp-analytics tokens create --name NAME --datasets 1,2|all | list | revoke NAME|ID"

// runTokens manages the API tokens of the HTTP endpoint.
func runTokens(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return &UsageError{Message: "missing subcommand", Hint: tokensHint}
	}
	switch args[0] {
	case "create":
		return tokensCreate(ctx, env, args[1:])
	case "list":
		return tokensList(ctx, env, args[1:])
	case "revoke":
		return tokensRevoke(ctx, env, args[1:])
	}
	return &UsageError{Message: "unknown subcommand " + strconv.Quote(args[0]), Hint: tokensHint}
}

func tokensCreate(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("tokens create", env)
	var common commonFlags
	common.register(fs)
	var cat catalogFlags
	cat.registerStore(fs)
	name := fs.String("name", "", "who or what the token is for, e.g. analyst-team (required)")
	datasets := fs.String("datasets", "", `dataset ids the token may see, e.g. 1,2, or "all" (required with the mcp scope)`)
	scopeList := fs.String("scopes", catalog.ScopeMCP, "what the token may do, comma-separated: mcp (call /mcp), metrics (read /metrics), admin")
	if err := parse(fs, args); err != nil {
		return err
	}
	scopes := config.SplitList(*scopeList)
	for _, sc := range scopes {
		if !slices.Contains(catalog.Scopes, sc) {
			return &UsageError{Message: fmt.Sprintf("unknown scope %q", sc), Hint: "scopes are " + strings.Join(catalog.Scopes, ", ")}
		}
	}
	if !slices.Contains(scopes, catalog.ScopeMCP) && *datasets == "" {
		*datasets = "none"
	}
	if *name == "" || *datasets == "" || fs.NArg() > 0 || len(scopes) == 0 {
		return &UsageError{Message: "--name and --datasets are required", Hint: "mcp-analytics tokens create --name analyst-team --datasets 1,2 (or --scopes metrics for a Prometheus token)"}
	}
	if err := checkTokenName(*name); err != nil {
		return &UsageError{Message: err.Error(), Hint: "use letters, digits, '-', '_', '.' or '@'"}
	}
	all, ids, err := auth.ParseDatasets(*datasets)
	if *datasets == "none" {
		all, ids, err = false, []int64{}, nil
	}
	if err != nil {
		return &UsageError{Message: "--datasets: " + err.Error(), Hint: `give dataset ids from 'mcp-analytics datasets list', or "all"`}
	}
	store, err := tokenStore(ctx, env, common, cat)
	if err != nil {
		return err
	}
	defer store.Close()
	for _, id := range ids {
		if _, err := store.Get(ctx, id); errors.Is(err, catalog.ErrNotFound) {
			return &UsageError{Message: fmt.Sprintf("dataset %d does not exist", id), Hint: "see 'mcp-analytics datasets list'"}
		} else if err != nil {
			return err
		}
	}
	secret, hash := auth.NewToken()
	t, err := store.AddToken(ctx, catalog.Token{Name: *name, Hash: hash, AllDatasets: all, Datasets: ids, Scopes: scopes})
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, secret)
	fmt.Fprintf(env.Stderr, "created token %d %q for %s (scopes: %s).\nThe token above is shown only now; the catalog keeps only its hash. Clients send it as 'Authorization: Bearer <token>'.\n",
		t.ID, t.Name, catalog.DescribeGrant(t), strings.Join(t.Scopes, ", "))
	return nil
}

// checkTokenName refuses names that could be mistaken for an id or that
// would garble the list.
func checkTokenName(name string) error { return catalog.CheckTokenName(name) }

func tokensList(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("tokens list", env)
	var common commonFlags
	common.register(fs)
	var cat catalogFlags
	cat.registerStore(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	store, err := tokenStore(ctx, env, common, cat)
	if err != nil {
		return err
	}
	defer store.Close()
	tokens, err := store.Tokens(ctx)
	if err != nil {
		return err
	}
	if len(tokens) == 0 {
		fmt.Fprintln(env.Stderr, "no tokens: the HTTP endpoint needs none until the first one is created")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tSEES\tCREATED\tREVOKED")
	for _, t := range tokens {
		revoked := "-"
		if !t.Active() {
			revoked = t.RevokedAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, strings.Join(t.Scopes, ","), catalog.DescribeGrant(t), t.CreatedAt.Local().Format(time.DateTime), revoked)
	}
	return tw.Flush()
}

func tokensRevoke(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("tokens revoke", env)
	var common commonFlags
	common.register(fs)
	var cat catalogFlags
	cat.registerStore(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &UsageError{Message: "give one token name or id", Hint: "mcp-analytics tokens revoke analyst-team"}
	}
	store, err := tokenStore(ctx, env, common, cat)
	if err != nil {
		return err
	}
	defer store.Close()
	arg := fs.Arg(0)
	if id, perr := strconv.ParseInt(arg, 10, 64); perr == nil {
		err = store.RevokeToken(ctx, id)
	} else {
		err = store.RevokeTokenByName(ctx, arg)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "revoked token %s; a running server refuses it within seconds\n", arg)
	return nil
}

// tokenStore opens the catalog the flags name (--store, MCPA_STORE, or
// the data directory's SQLite file), where API tokens are kept.
func tokenStore(ctx context.Context, env Env, common commonFlags, cat catalogFlags) (catalog.Store, error) {
	cfg, err := common.load(env)
	if err != nil {
		return nil, err
	}
	return openCatalog(ctx, cfg, cat.resolve(env.Environ))
}
