package pgstat

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultConnectTimeout bounds connecting when the DSN sets no
// connect_timeout.
const DefaultConnectTimeout = 10 * time.Second

// Connect opens one connection. A DSN that does not parse is ErrBadDSN;
// other failures come back as one clear line (see Friendly).
func Connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadDSN, oneLine(err.Error()))
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, Friendly(err, "", 0)
	}
	return conn, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// ExplainOptions control how a statement is explained.
type ExplainOptions struct {
	// NoAnalyze shows the plan without running the statement.
	NoAnalyze bool
	// Commit keeps the statement's effects. Without it the statement runs
	// in a transaction that is rolled back.
	Commit bool
	// ReadOnly runs the statement in a READ ONLY transaction and refuses
	// statements that are not known to be read-only.
	ReadOnly bool
	// Timeout sets statement_timeout for the statement; 0 keeps the
	// server's setting.
	Timeout time.Duration
}

// Explain runs EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) for sql on conn,
// inside a transaction that is rolled back unless opt.Commit, and returns
// the analyzed plan with Query and Note set.
func Explain(ctx context.Context, conn *pgx.Conn, sql string, opt ExplainOptions) (*Plan, error) {
	sql = trimStatement(sql)
	if sql == "" {
		return nil, errors.New("no SQL statement to explain")
	}
	if err := explainable(sql); err != nil {
		return nil, err
	}
	readOnly := IsReadOnly(sql)
	if opt.ReadOnly && !readOnly {
		return nil, fmt.Errorf("refusing to explain a statement that may write: %.40q", sql)
	}
	prefix := "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "
	if opt.NoAnalyze {
		prefix = "EXPLAIN (FORMAT JSON) "
	}
	txOpt := pgx.TxOptions{}
	if opt.ReadOnly {
		txOpt.AccessMode = pgx.ReadOnly
	}
	tx, err := conn.BeginTx(ctx, txOpt)
	if err != nil {
		return nil, Friendly(err, "", 0)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if opt.Timeout > 0 {
		q := fmt.Sprintf("SET LOCAL statement_timeout = %d", opt.Timeout.Milliseconds())
		if _, err := tx.Exec(ctx, q); err != nil {
			return nil, Friendly(err, "", 0)
		}
	}
	var out string
	err = tx.QueryRow(ctx, prefix+sql, pgx.QueryExecModeDescribeExec).Scan(&out)
	if err != nil {
		return nil, explainError(err, sql, len([]rune(prefix)))
	}
	if opt.Commit {
		if err := tx.Commit(ctx); err != nil {
			return nil, fmt.Errorf("committing: %w", Friendly(err, "", 0))
		}
	}
	p, err := Parse([]byte(out))
	if err != nil {
		return nil, err
	}
	p.Query = sql
	p.Note = note(opt, readOnly)
	return p, nil
}

func note(opt ExplainOptions, readOnly bool) string {
	switch {
	case opt.NoAnalyze:
		return "Not executed (--no-analyze): planner estimates only."
	case opt.Commit && !readOnly:
		return "Ran and committed (--commit): its changes are kept."
	case !readOnly:
		return "Ran inside a transaction that was rolled back: no rows were changed (use --commit to keep changes)."
	}
	return ""
}

var paramRef = regexp.MustCompile(`\$\d+`)

func explainError(err error, sql string, offset int) error {
	if m := err.Error(); strings.Contains(m, "arguments, got 0") || strings.Contains(m, "there is no parameter $") {
		return fmt.Errorf("the statement has parameters (%s); put literal values in their place to explain it",
			strings.Join(paramRef.FindAllString(sql, 3), ", "))
	}
	return Friendly(err, sql, offset)
}

// trimStatement drops surrounding space and trailing semicolons.
func trimStatement(sql string) string {
	sql = strings.TrimSpace(sql)
	for strings.HasSuffix(sql, ";") {
		sql = strings.TrimSpace(strings.TrimSuffix(sql, ";"))
	}
	return sql
}

var (
	leadingComments = regexp.MustCompile(`^(\s*(--[^\n]*\n|/\*(?s:.*?)\*/))*\s*`)
	firstWord       = regexp.MustCompile(`^[A-Za-z]+`)
	writeWords      = regexp.MustCompile(`(?i)\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|INTO|FOR\s+(UPDATE|SHARE|NO\s+KEY|KEY)|NEXTVAL|SETVAL)\b`)
)

// IsReadOnly reports whether sql is known not to write: a SELECT, VALUES
// or TABLE (or a WITH over them) that names no writing keyword. It errs on
// the side of "may write": a SELECT calling a function that writes is still
// caught by the READ ONLY transaction ExplainReadOnly uses.
func IsReadOnly(sql string) bool {
	s := leadingComments.ReplaceAllString(sql, "")
	switch strings.ToUpper(firstWord.FindString(s)) {
	case "SELECT", "WITH", "VALUES", "TABLE":
		return !writeWords.MatchString(s)
	}
	return false
}

// ExplainReadOnly explains sql with ANALYZE for a load test's report: only
// read-only statements, in a READ ONLY transaction that is rolled back,
// bounded by a 30 s statement timeout. A statement normalized by
// pg_stat_statements ($1 in place of constants) cannot run; on PostgreSQL
// 16 and later it gets a generic plan without ANALYZE instead.
func ExplainReadOnly(ctx context.Context, dsn, sql string) (*Plan, error) {
	conn, err := Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	opt := ExplainOptions{ReadOnly: true, Timeout: 30 * time.Second}
	if paramRef.MatchString(sql) {
		return explainGeneric(ctx, conn, sql)
	}
	return Explain(ctx, conn, sql, opt)
}

func explainGeneric(ctx context.Context, conn *pgx.Conn, sql string) (*Plan, error) {
	sql = trimStatement(sql)
	if !IsReadOnly(sql) {
		return nil, fmt.Errorf("refusing to explain a statement that may write: %.40q", sql)
	}
	var out string
	var err error
	offset := 0
	if serverMajor(conn) >= 16 {
		prefix := "EXPLAIN (GENERIC_PLAN, FORMAT JSON) "
		offset = len([]rune(prefix))
		err = conn.QueryRow(ctx, prefix+sql, pgx.QueryExecModeSimpleProtocol).Scan(&out)
	} else {
		offset = len([]rune(preparePrefix))
		out, err = explainPrepared(ctx, conn, sql)
	}
	if err != nil {
		return nil, Friendly(err, sql, offset)
	}
	p, err := Parse([]byte(out))
	if err != nil {
		return nil, err
	}
	p.Query = sql
	p.Note = "Generic plan (the statement has parameters): planner estimates only."
	return p, nil
}

const preparePrefix = "PREPARE surge_generic AS "

// explainPrepared gets a generic plan before PostgreSQL 16: prepare the
// statement, force the generic plan, and EXPLAIN EXECUTE it with NULLs (the
// values do not matter to a generic plan; nothing is executed).
func explainPrepared(ctx context.Context, conn *pgx.Conn, sql string) (string, error) {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return "", err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SET LOCAL plan_cache_mode = force_generic_plan"); err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, preparePrefix+sql, pgx.QueryExecModeSimpleProtocol); err != nil {
		return "", err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "DEALLOCATE surge_generic")
	nulls := strings.TrimSuffix(strings.Repeat("NULL,", maxParam(sql)), ",")
	var out string
	err = tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) EXECUTE surge_generic("+nulls+")",
		pgx.QueryExecModeSimpleProtocol).Scan(&out)
	return out, err
}

// maxParam is the highest $n in sql.
func maxParam(sql string) int {
	n := 0
	for _, m := range paramRef.FindAllString(sql, -1) {
		v := 0
		fmt.Sscanf(m, "$%d", &v)
		n = max(n, v)
	}
	return n
}

// serverMajor is the server's major version (15 for "15.4 (Debian …)").
func serverMajor(conn *pgx.Conn) int {
	v := conn.PgConn().ParameterStatus("server_version")
	major := 0
	for _, r := range v {
		if r < '0' || r > '9' {
			break
		}
		major = major*10 + int(r-'0')
	}
	return major
}

var explainableStart = regexp.MustCompile(`(?is)^(\(|SELECT|INSERT|UPDATE|DELETE|MERGE|VALUES|EXECUTE|WITH|TABLE|` +
	`CREATE\s+((GLOBAL|LOCAL)\s+)?((TEMP|TEMPORARY|UNLOGGED)\s+)?(TABLE|MATERIALIZED\s+VIEW)\b.*\bAS\b)`)

// explainable rejects, before the server answers with a puzzling syntax
// error, statements EXPLAIN cannot take (DDL, VACUUM, COPY …).
func explainable(sql string) error {
	s := leadingComments.ReplaceAllString(sql, "")
	if explainableStart.MatchString(s) {
		return nil
	}
	word := strings.ToUpper(firstWord.FindString(s))
	return fmt.Errorf("EXPLAIN cannot take a %s statement: give a SELECT, INSERT, UPDATE, DELETE, MERGE, VALUES, EXECUTE or CREATE TABLE … AS", word)
}
