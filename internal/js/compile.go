package js

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
	"github.com/grafana/sobek"
)

// ScriptError is a script that does not compile, or whose init code or
// setup throws. Its message names file:line:col where known.
type ScriptError struct {
	File         string
	Line, Column int // 1-based; 0 when unknown
	Msg          string
}

func (e *ScriptError) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// wrapperHead and wrapperTail turn the CommonJS output of esbuild into one
// function that each VU's runtime calls with its own module objects. The
// head stays on the first line so line numbers (and the inline source map)
// stay valid.
const (
	wrapperHead = "(function(exports, require, module, open) {"
	wrapperTail = "\n})"
)

// compile transforms source (ES modules, TypeScript for .ts) to CommonJS
// with esbuild, keeping an inline source map so that positions in stack
// traces are those of the file the user wrote, and compiles it once.
func compile(name string, source []byte) (*sobek.Program, error) {
	loader := api.LoaderJS
	if strings.HasSuffix(name, ".ts") {
		loader = api.LoaderTS
	}
	res := api.Transform(string(source), api.TransformOptions{
		Loader:         loader,
		Format:         api.FormatCommonJS,
		Target:         api.ES2020,
		Sourcefile:     filepath.Base(name),
		Sourcemap:      api.SourceMapInline,
		SourcesContent: api.SourcesContentExclude,
		Platform:       api.PlatformNeutral,
		LogLevel:       api.LogLevelSilent,
	})
	if len(res.Errors) > 0 {
		m := res.Errors[0]
		e := &ScriptError{File: name, Msg: m.Text}
		if m.Location != nil {
			e.Line, e.Column = m.Location.Line, m.Location.Column+1
		}
		return nil, e
	}
	code := wrapperHead + string(res.Code) + wrapperTail
	prg, err := sobek.Compile(name, code, false)
	if err != nil {
		return nil, &ScriptError{File: name, Msg: err.Error()}
	}
	return prg, nil
}

// readScript reads the script at path.
func readScript(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading script: %w", err)
	}
	return b, nil
}
