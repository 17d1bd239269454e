package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/mcp-analytics/mcp-analytics/internal/auth"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog"
	"github.com/mcp-analytics/mcp-analytics/internal/catalog/sqlitestore"
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
	name := fs.String("name", "", "who or what the token is for, e.g. analyst-team (required)")
	datasets := fs.String("datasets", "", `dataset ids the token may see, e.g. 1,2, or "all" (required)`)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" || *datasets == "" || fs.NArg() > 0 {
		return &UsageError{Message: "--name and --datasets are required", Hint: "mcp-analytics tokens create --name analyst-team --datasets 1,2"}
	}
	if err := checkTokenName(*name); err != nil {
		return &UsageError{Message: err.Error(), Hint: "use letters, digits, '-', '_', '.' or '@'"}
	}
	all, ids, err := auth.ParseDatasets(*datasets)
	if err != nil {
		return &UsageError{Message: "--datasets: " + err.Error(), Hint: `give dataset ids from 'mcp-analytics datasets list', or "all"`}
	}
	store, err := common.localStore(ctx, env)
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
	t, err := store.AddToken(ctx, sqlitestore.Token{Name: *name, Hash: hash, AllDatasets: all, Datasets: ids})
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, secret)
	fmt.Fprintf(env.Stderr, "created token %d %q for %s.\nThe token above is shown only now; the catalog keeps only its hash. Clients send it as 'Authorization: Bearer <token>'.\n",
		t.ID, t.Name, describeGrant(t))
	return nil
}

// checkTokenName refuses names that could be mistaken for an id or that
// would garble the list.
func checkTokenName(name string) error {
	if len(name) > 100 {
		return errors.New("token name longer than 100 characters")
	}
	if _, err := strconv.ParseInt(name, 10, 64); err == nil {
		return fmt.Errorf("token name %q is a number; names must not look like ids", name)
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("-_.@", r) {
			return fmt.Errorf("token name %q contains %q", name, r)
		}
	}
	return nil
}

func describeGrant(t sqlitestore.Token) string {
	if t.AllDatasets {
		return "all datasets"
	}
	if len(t.Datasets) == 0 {
		return "no dataset"
	}
	s := make([]string, len(t.Datasets))
	for i, id := range t.Datasets {
		s[i] = strconv.FormatInt(id, 10)
	}
	return "datasets " + strings.Join(s, ", ")
}

func tokensList(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("tokens list", env)
	var common commonFlags
	common.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	store, err := common.localStore(ctx, env)
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
	fmt.Fprintln(tw, "ID\tNAME\tSEES\tCREATED\tREVOKED")
	for _, t := range tokens {
		revoked := "-"
		if !t.Active() {
			revoked = t.RevokedAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", t.ID, t.Name, describeGrant(t), t.CreatedAt.Local().Format(time.DateTime), revoked)
	}
	return tw.Flush()
}

func tokensRevoke(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("tokens revoke", env)
	var common commonFlags
	common.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &UsageError{Message: "give one token name or id", Hint: "mcp-analytics tokens revoke analyst-team"}
	}
	store, err := common.localStore(ctx, env)
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

// localStore opens the SQLite catalog of the configured data directory,
// where API tokens are kept (also when datasets live in a PostgreSQL store).
func (c *commonFlags) localStore(ctx context.Context, env Env) (*sqlitestore.Store, error) {
	cfg, err := c.load(env)
	if err != nil {
		return nil, err
	}
	return openStore(ctx, cfg.DataDir)
}
