package js

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
// function that each VU's runtime calls with its own module objects and
// k6's globals (__ENV, __VU, __ITER, console, open, require) as parameters:
// setting them on the global object would make every runtime build its
// whole global property table. The head stays on the first line so line
// numbers (and the inline source map) stay valid.
const (
	wrapperHead = "(function(exports, require, module, open, __surgeESM, __export, __toCommonJS, __ENV, __VU, console, __setIter) {" +
		"var __ITER = 0; __setIter(function(i) { __ITER = i; });"
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
	dir, _ := filepath.Abs(filepath.Dir(name))
	res := api.Build(api.BuildOptions{
		Stdin: &api.StdinOptions{
			Contents: string(source), Sourcefile: filepath.Base(name), ResolveDir: dir, Loader: loader,
		},
		AbsWorkingDir:  dir,
		Bundle:         true, // local imports ("./lib.js") are bundled into one program
		Plugins:        []api.Plugin{builtinModules},
		Format:         api.FormatCommonJS,
		Target:         api.ES2020,
		Sourcemap:      api.SourceMapInline,
		SourcesContent: api.SourcesContentExclude,
		Platform:       api.PlatformNeutral,
		LogLevel:       api.LogLevelSilent,
		Write:          false,
	})
	if len(res.Errors) > 0 {
		m := res.Errors[0]
		e := &ScriptError{File: name, Msg: m.Text}
		if m.Location != nil {
			if m.Location.File != "" && m.Location.File != filepath.Base(name) && m.Location.File != "<stdin>" {
				e.File = filepath.Join(filepath.Dir(name), m.Location.File)
			}
			e.Line, e.Column = m.Location.Line, m.Location.Column+1
		}
		return nil, e
	}
	if len(res.OutputFiles) == 0 {
		return nil, &ScriptError{File: name, Msg: "esbuild produced no output"}
	}
	// esbuild's __toESM copies every export of a module into a new object
	// with a getter each: per VU and module that is most of a VU's memory.
	// __surgeESM gives the same view with the module as prototype.
	out := strings.ReplaceAll(stripHelpers(string(res.OutputFiles[0].Contents)), "__toESM(require(", "__surgeESM(require(")
	code := wrapperHead + out + wrapperTail
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

// knownHelpers are the esbuild interop helpers that the VU provides
// natively (__export, __toCommonJS, __toESM) or that only they use.
var knownHelpers = map[string]bool{
	"__create": true, "__defProp": true, "__getOwnPropDesc": true, "__getOwnPropNames": true,
	"__getProtoOf": true, "__hasOwnProp": true, "__export": true, "__copyProps": true,
	"__toESM": true, "__toCommonJS": true,
}

// stripHelpers blanks esbuild's helper prologue when it holds only the
// known interop helpers. Run in every VU, the prologue (Object.* lookups,
// for-in over exports, a getter per import) costs about half of a VU's
// memory. Lines are blanked, not removed, so the source map stays right.
func stripHelpers(code string) string {
	lines := strings.SplitAfter(code, "\n")
	end := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "var __") {
			name, _, _ := strings.Cut(strings.TrimPrefix(l, "var "), " ")
			if !knownHelpers[name] {
				return code
			}
			end = i + 1
			continue
		}
		if i > 0 && end == i && (strings.HasPrefix(l, " ") || strings.HasPrefix(l, ")") || strings.HasPrefix(l, "}")) {
			end = i + 1
			continue
		}
		break
	}
	if end == 0 {
		return code
	}
	var b strings.Builder
	for i, l := range lines {
		if i < end {
			b.WriteString("\n")
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}

// builtinModules keeps surge's modules out of the bundle (VUs require
// them at run time) and turns any other bare import into an error that
// lists the modules there are.
var builtinModules = api.Plugin{
	Name: "surge-modules",
	Setup: func(b api.PluginBuild) {
		b.OnResolve(api.OnResolveOptions{Filter: `^[^./]`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			if slices.Contains(moduleNames, a.Path) {
				return api.OnResolveResult{Path: a.Path, External: true}, nil
			}
			return api.OnResolveResult{}, fmt.Errorf("unknown module %q; the modules are %s", a.Path, strings.Join(moduleNames, ", "))
		})
	},
}
