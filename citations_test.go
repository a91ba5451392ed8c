package scim_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The citation checks: every file a comment or a Markdown file names must be
// in the repository (a reader cannot follow a reference to a file we do
// not ship), every Markdown anchor after a file name must name a heading of
// that file, and
// no doc comment that go doc shows may name an identifier the reader cannot
// see (an unexported function, type, variable or constant of the package).
// They walk the whole repository, every module of go.work included.

// fileRef matches a relative path to a file of the kinds the repository
// holds, with an optional #anchor.
var fileRef = regexp.MustCompile(`(?:^|[\s("'\x60\[])((?:\.{0,2}/)?[A-Za-z0-9_][A-Za-z0-9_./-]*\.(?:md|go|sql))(#[A-Za-z0-9_-]+)?`)

// urlRef matches a URL, whose paths are not the repository's.
var urlRef = regexp.MustCompile(`[a-z]+://\S+`)

// repoRoot is the directory of go.work, the root of the repository.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.work above the package")
		}
		dir = parent
	}
}

// repoFiles returns the repository's files (slash paths relative to root),
// without hidden directories.
func repoFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// anchors returns the GitHub anchors of a Markdown file's headings.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	inCode := false
	for line := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
		}
		if inCode || !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(h) {
			switch {
			case r == ' ':
				b.WriteByte('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		out[b.String()] = true
	}
	return out
}

// checkRefs reports each file reference in text (found in file, a slash
// path relative to root) that does not resolve.
func checkRefs(t *testing.T, root string, files map[string]bool, where, dir, text string) {
	t.Helper()
	text = urlRef.ReplaceAllString(text, " ")
	for _, m := range fileRef.FindAllStringSubmatch(text, -1) {
		ref, anchor := m[1], strings.TrimPrefix(m[2], "#")
		if strings.Contains(ref, "...") || strings.Contains(ref, "NNNN") {
			// An elided or placeholder name ("NNNN_name.sql"), not a file.
			continue
		}
		target := ""
		for _, cand := range []string{filepath.ToSlash(filepath.Join(dir, ref)), strings.TrimPrefix(ref, "/")} {
			if files[cand] {
				target = cand
				break
			}
		}
		if target == "" && !strings.Contains(ref, "/") {
			// A bare file name: a file of that name anywhere in the
			// repository's packages ("entra.go", "setup_test.go").
			for f := range files {
				if filepath.Base(f) == ref && strings.HasSuffix(ref, ".go") {
					target = f
					break
				}
			}
		}
		if target == "" {
			t.Errorf("%s: %q names a file that is not in the repository", where, ref)
			continue
		}
		if anchor != "" && strings.HasSuffix(target, ".md") {
			b, err := os.ReadFile(filepath.Join(root, target))
			if err == nil && !anchors(string(b))[anchor] {
				t.Errorf("%s: %s#%s: %s has no heading with that anchor", where, ref, anchor, target)
			}
		}
	}
}

func TestCitationsResolve(t *testing.T) {
	root := repoRoot(t)
	all := repoFiles(t, root)
	files := map[string]bool{}
	for _, f := range all {
		files[f] = true
	}
	for _, f := range all {
		dir := filepath.ToSlash(filepath.Dir(f))
		switch {
		case strings.HasSuffix(f, ".md"):
			b, err := os.ReadFile(filepath.Join(root, f))
			if err != nil {
				t.Fatal(err)
			}
			// Markdown links, and the file names in the text.
			checkRefs(t, root, files, f, dir, string(b))
		case strings.HasSuffix(f, ".go") && !strings.Contains(f, "/testdata/"):
			fset := token.NewFileSet()
			af, err := parser.ParseFile(fset, filepath.Join(root, f), nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			for _, cg := range af.Comments {
				checkRefs(t, root, files, f+":"+strconv.Itoa(fset.Position(cg.Pos()).Line), dir, cg.Text())
			}
		case strings.HasPrefix(f, "testdata/") && strings.HasSuffix(f, ".txt"):
			b, err := os.ReadFile(filepath.Join(root, f))
			if err != nil {
				t.Fatal(err)
			}
			checkRefs(t, root, files, f, dir, string(b))
		}
	}
}

// TestDocCommentsNameVisibleIdentifiers checks every package's doc as go
// doc -all shows it: no comment names an unexported identifier of the
// package, as a [link] or as a camelCase word a reader would look up.
func TestDocCommentsNameVisibleIdentifiers(t *testing.T) {
	root := repoRoot(t)
	dirs := map[string]bool{}
	for _, f := range repoFiles(t, root) {
		if strings.HasSuffix(f, ".go") && !strings.HasSuffix(f, "_test.go") && !strings.Contains(f, "testdata/") {
			dirs[filepath.Dir(f)] = true
		}
	}
	word := regexp.MustCompile(`\[?\b[a-z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*\b\]?`)
	for _, dir := range slices.Sorted(func(yield func(string) bool) {
		for d := range dirs {
			if !yield(d) {
				return
			}
		}
	}) {
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, filepath.Join(root, dir), func(fi fs.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, pkg := range pkgs {
			unexported := map[string]bool{}
			for _, f := range pkg.Files {
				for name, obj := range f.Scope.Objects {
					if !ast.IsExported(name) && obj.Kind != ast.Bad {
						unexported[name] = true
					}
				}
				for _, d := range f.Decls {
					if fd, ok := d.(*ast.FuncDecl); ok && !fd.Name.IsExported() {
						unexported[fd.Name.Name] = true
					}
				}
			}
			p := doc.New(pkg, dir, 0)
			check := func(what, text string, params ...string) {
				for _, w := range word.FindAllString(text, -1) {
					name := strings.Trim(w, "[]")
					if scimAttributes[name] && !strings.HasPrefix(w, "[") || slices.Contains(params, name) {
						continue // a SCIM attribute or the function's parameter, not the identifier
					}
					if unexported[name] {
						t.Errorf("%s: %s: the doc names %q, which go doc does not show", dir, what, name)
					}
				}
			}
			check("package doc", p.Doc)
			values := func(vs []*doc.Value) {
				for _, v := range vs {
					check(strings.Join(v.Names, ", "), v.Doc)
					for _, s := range v.Decl.Specs {
						if vs, ok := s.(*ast.ValueSpec); ok {
							check(strings.Join(v.Names, ", "), vs.Doc.Text()+vs.Comment.Text())
						}
					}
				}
			}
			values(p.Consts)
			values(p.Vars)
			for _, f := range p.Funcs {
				check(f.Name, f.Doc, paramNames(f.Decl)...)
			}
			for _, typ := range p.Types {
				check(typ.Name, typ.Doc)
				values(typ.Consts)
				values(typ.Vars)
				for _, f := range typ.Funcs {
					check(f.Name, f.Doc, paramNames(f.Decl)...)
				}
				for _, m := range typ.Methods {
					check(typ.Name+"."+m.Name, m.Doc, paramNames(m.Decl)...)
				}
				for _, s := range typ.Decl.Specs {
					ts, ok := s.(*ast.TypeSpec)
					if !ok {
						continue
					}
					var fields *ast.FieldList
					switch x := ts.Type.(type) {
					case *ast.StructType:
						fields = x.Fields
					case *ast.InterfaceType:
						fields = x.Methods
					}
					if fields == nil {
						continue
					}
					for _, fl := range fields.List {
						if len(fl.Names) > 0 && !fl.Names[0].IsExported() {
							continue
						}
						check(typ.Name+" field", fl.Doc.Text()+fl.Comment.Text())
					}
				}
			}
		}
	}
}

// scimAttributes are SCIM attribute names that are also unexported
// identifiers of package scim: in a comment they name the attribute.
var scimAttributes = map[string]bool{"resourceType": true}

// paramNames returns the names of fd's parameters and results.
func paramNames(fd *ast.FuncDecl) []string {
	var names []string
	for _, fl := range []*ast.FieldList{fd.Recv, fd.Type.Params, fd.Type.Results} {
		if fl == nil {
			continue
		}
		for _, f := range fl.List {
			for _, n := range f.Names {
				names = append(names, n.Name)
			}
		}
	}
	return names
}
