package pgstat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrBadDSN marks a connection string that cannot be parsed: a user error.
var ErrBadDSN = errors.New("invalid DSN")

// ErrNoExtension is returned when pg_stat_statements is missing; its
// message says how to install it.
var ErrNoExtension = errors.New("pg_stat_statements is not available")

// Friendly turns a pgx error into one line that says what went wrong and,
// where there is one, the fix. sql is the statement the user wrote and
// offset the number of characters surge put in front of it (an EXPLAIN
// prefix), so that a syntax error's position points into the user's text.
func Friendly(err error, sql string, offset int) error {
	if err == nil {
		return nil
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return connectError(err, ce)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pgError(err, pe, sql, offset)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("timed out: %w", err)
	}
	return err
}

func pgError(err error, pe *pgconn.PgError, sql string, offset int) error {
	where := ""
	if pe.Position > 0 {
		where = position(sql, int(pe.Position)-offset)
	}
	msg := pe.Message
	switch pe.Code {
	case "57014":
		if strings.Contains(pe.Message, "statement timeout") {
			return &friendlyError{"the statement ran longer than the statement timeout and was canceled (raise --timeout)", err}
		}
	case "42501":
		return &friendlyError{msg + " (connect as a role with the privilege, or GRANT it)", err}
	case "3D000", "28000", "28P01":
		return &friendlyError{msg, err}
	case "42601":
		if strings.Contains(msg, "multiple commands") {
			return &friendlyError{"give one statement at a time: the SQL holds several", err}
		}
	case "55000":
		if strings.Contains(msg, "pg_stat_statements") {
			return &friendlyError{NoExtensionHelp(), ErrNoExtension}
		}
	}
	line := fmt.Sprintf("%s (SQLSTATE %s)", msg, pe.Code)
	if where != "" {
		line = fmt.Sprintf("%s at %s", msg, where)
	}
	if pe.Hint != "" {
		line += "; hint: " + pe.Hint
	}
	return &friendlyError{line, err}
}

// position describes a 1-based character position in sql as
// `line 2, column 7: "FORM users"`.
func position(sql string, pos int) string {
	r := []rune(sql)
	if pos < 1 || pos > len(r)+1 {
		return ""
	}
	line, col := 1, 1
	start := 0
	for i := 0; i < pos-1; i++ {
		if r[i] == '\n' {
			line, col, start = line+1, 1, i+1
		} else {
			col++
		}
	}
	end := start
	for end < len(r) && r[end] != '\n' {
		end++
	}
	snippet := strings.TrimSpace(string(r[pos-1 : min(end, pos-1+30)]))
	where := fmt.Sprintf("line %d, column %d", line, col)
	if snippet != "" {
		where += fmt.Sprintf(": %q", snippet)
	}
	return where
}

func connectError(err error, ce *pgconn.ConnectError) error {
	addr := ""
	if ce.Config != nil {
		addr = net.JoinHostPort(ce.Config.Host, fmt.Sprint(ce.Config.Port))
	}
	var pe *pgconn.PgError
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns):
		return &friendlyError{fmt.Sprintf("connecting to PostgreSQL: cannot resolve host %q", dns.Name), err}
	case errors.As(err, &pe):
		return &friendlyError{fmt.Sprintf("connecting to PostgreSQL at %s: %s", addr, pe.Message), err}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &friendlyError{fmt.Sprintf("connecting to PostgreSQL at %s: connection refused (is the server running and listening there?)", addr), err}
	case errors.Is(err, context.DeadlineExceeded):
		return &friendlyError{fmt.Sprintf("connecting to PostgreSQL at %s: timed out", addr), err}
	}
	inner := errors.Unwrap(err)
	for inner != nil && errors.Unwrap(inner) != nil {
		inner = errors.Unwrap(inner)
	}
	msg := err.Error()
	if inner != nil {
		msg = inner.Error()
	}
	return &friendlyError{fmt.Sprintf("connecting to PostgreSQL at %s: %s", addr, msg), err}
}

// friendlyError shows a clear line but keeps the original error for
// errors.Is and errors.As.
type friendlyError struct {
	msg string
	err error
}

func (e *friendlyError) Error() string { return e.msg }
func (e *friendlyError) Unwrap() error { return e.err }

// NoExtensionHelp is the exact steps to enable pg_stat_statements.
func NoExtensionHelp() string {
	return "pg_stat_statements is not enabled: add it to postgresql.conf " +
		"(shared_preload_libraries = 'pg_stat_statements'), restart PostgreSQL, " +
		"then run CREATE EXTENSION pg_stat_statements; in this database as a superuser"
}
