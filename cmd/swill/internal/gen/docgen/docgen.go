package docgen

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/swillorg/swill-go/cmd/swill/internal/svcdesc"
	"github.com/swillorg/swill-go/introspect"
)

// Options configure [Markdown] and [HTML].
type Options struct {
	// Title is the page's title. Default "API reference".
	Title string
}

// page is what both formats render.
type page struct {
	Title    string
	Version  string
	Protocol string
	Calls    []call
	Channels []channel
	Types    []typeDef
}

// channel is a declared pub/sub channel.
type channel struct {
	Pattern string
	Glob    bool
	Doc     string
	Message string
	Keeps   string // history, presence and publishing in words
}

type call struct {
	Name     string
	Kind     string
	Doc      string
	Request  string
	Response string
	Errors   []string
	Example  string
	// ExampleLabel introduces the example: a request, or one item of
	// the client's stream.
	ExampleLabel string
}

type typeDef struct {
	Name   string
	Doc    string
	Type   string // for a type that is not an object with fields
	Fields []field
}

type field struct {
	Name     string
	Type     string
	Required bool
	Notes    string
}

func build(doc *introspect.Document, opts Options) page {
	p := page{Title: opts.Title, Version: doc.Version, Protocol: doc.Protocol}
	if p.Title == "" {
		p.Title = "API reference"
	}
	for _, m := range doc.Handlers {
		c := call{
			Name:     m.Name,
			Kind:     strings.ReplaceAll(m.Kind, "_", " "),
			Doc:      m.Doc,
			Request:  svcdesc.TypeString(m.Request.Schema),
			Response: svcdesc.TypeString(m.Response.Schema),
		}
		if m.Request.Streams {
			c.Request = "stream of " + c.Request
		}
		if m.Response.Streams {
			c.Response = "stream of " + c.Response
		}
		for _, e := range m.Errors {
			s := strconv.Itoa(e.Code)
			if e.Name != "" {
				s += " " + e.Name
			}
			c.Errors = append(c.Errors, s)
		}
		c.ExampleLabel = "Example request"
		if m.Request.Streams {
			c.ExampleLabel = "Example request item"
		}
		c.Example = formatJSON(svcdesc.Example(m.Request.Schema, doc.Defs))
		p.Calls = append(p.Calls, c)
	}
	for _, ch := range doc.Channels {
		p.Channels = append(p.Channels, channel{
			Pattern: ch.Pattern, Glob: ch.Glob, Doc: ch.Doc,
			Message: svcdesc.TypeString(ch.Message), Keeps: channelKeeps(ch),
		})
	}
	for _, d := range doc.Defs {
		s := d.Schema
		if s == nil {
			s = &introspect.Schema{}
		}
		t := typeDef{Name: d.Name, Doc: s.Description}
		if s.Type != "object" || len(s.Properties) == 0 {
			t.Type = svcdesc.TypeString(s)
		}
		required := map[string]bool{}
		for _, r := range s.Required {
			required[r] = true
		}
		for _, prop := range s.Properties {
			t.Fields = append(t.Fields, field{
				Name:     prop.Name,
				Type:     svcdesc.TypeString(prop.Schema),
				Required: required[prop.Name],
				Notes:    notes(prop.Schema),
			})
		}
		p.Types = append(p.Types, t)
	}
	return p
}

// notes describes a field's constraints in words.
func notes(s *introspect.Schema) string {
	if s == nil {
		return ""
	}
	if inner, ok := svcdesc.Nullable(s); ok {
		s = inner
	}
	var out []string
	if s.Description != "" {
		out = append(out, strings.TrimSuffix(strings.TrimSpace(s.Description), "."))
	}
	num := func(f *float64) string { return strconv.FormatFloat(*f, 'g', -1, 64) }
	if s.Format != "" && !svcdesc.IsTimestamp(s) {
		out = append(out, "format "+s.Format)
	}
	if s.Minimum != nil {
		out = append(out, "≥ "+num(s.Minimum))
	}
	if s.ExclusiveMinimum != nil {
		out = append(out, "> "+num(s.ExclusiveMinimum))
	}
	if s.Maximum != nil {
		out = append(out, "≤ "+num(s.Maximum))
	}
	if s.ExclusiveMaximum != nil {
		out = append(out, "< "+num(s.ExclusiveMaximum))
	}
	bound := func(what string, lo, hi *int) {
		switch {
		case lo != nil && hi != nil && *lo == *hi:
			out = append(out, fmt.Sprintf("%s %d", what, *lo))
		case lo != nil && hi != nil:
			out = append(out, fmt.Sprintf("%s %d to %d", what, *lo, *hi))
		case lo != nil:
			out = append(out, fmt.Sprintf("%s ≥ %d", what, *lo))
		case hi != nil:
			out = append(out, fmt.Sprintf("%s ≤ %d", what, *hi))
		}
	}
	bound("length", s.MinLength, s.MaxLength)
	if len(s.PrefixItems) == 0 {
		bound("items", s.MinItems, s.MaxItems)
	}
	bound("entries", s.MinProperties, s.MaxProperties)
	if s.Pattern != "" {
		out = append(out, "pattern "+s.Pattern)
	}
	for _, a := range s.AllOf {
		if a != nil && a.Pattern != "" {
			out = append(out, "pattern "+a.Pattern)
		}
	}
	if s.UniqueItems {
		out = append(out, "unique items")
	}
	if len(s.Enum) > 1 {
		vals := make([]string, len(s.Enum))
		for i, v := range s.Enum {
			b, _ := json.Marshal(v)
			vals[i] = string(b)
		}
		out = append(out, "one of "+strings.Join(vals, ", "))
	}
	if s.Not != nil && len(s.Not.Enum) == 1 {
		b, _ := json.Marshal(s.Not.Enum[0])
		out = append(out, "not "+string(b))
	}
	return strings.Join(out, "; ")
}

// Markdown returns the reference of the service doc describes as
// Markdown (GitHub's dialect: tables, fenced code).
func Markdown(doc *introspect.Document, opts Options) []byte {
	p := build(doc, opts)
	var w bytes.Buffer
	fmt.Fprintf(&w, "# %s\n\n", mdText(p.Title))
	var facts []string
	if p.Version != "" {
		facts = append(facts, "Service version "+mdCode(p.Version))
	}
	facts = append(facts, fmt.Sprintf("protocol %s", mdCode(p.Protocol)))
	facts = append(facts, fmt.Sprintf("%d calls", len(p.Calls)))
	w.WriteString(strings.Join(facts, " · ") + "\n\n")

	// The anchors GitHub gives the calls' headings, which come after the
	// title and "Calls".
	anchors := map[string]string{}
	seen := map[string]int{}
	uniqueSlug(seen, p.Title)
	uniqueSlug(seen, "Calls")
	for _, c := range p.Calls {
		anchors[c.Name] = uniqueSlug(seen, c.Name)
	}
	w.WriteString("## Calls\n\n| call | kind | request → response |\n|---|---|---|\n")
	for _, c := range p.Calls {
		fmt.Fprintf(&w, "| [%s](#%s) | %s | %s → %s |\n", mdText(c.Name), anchors[c.Name], c.Kind, mdCellCode(c.Request), mdCellCode(c.Response))
	}
	w.WriteString("\n")
	for _, c := range p.Calls {
		fmt.Fprintf(&w, "### %s\n\n", mdText(c.Name))
		if c.Doc != "" {
			fmt.Fprintf(&w, "%s\n\n", c.Doc)
		}
		fmt.Fprintf(&w, "- Kind: %s\n- Request: %s\n- Response: %s\n", c.Kind, mdCode(c.Request), mdCode(c.Response))
		if len(c.Errors) > 0 {
			fmt.Fprintf(&w, "- Declared errors: %s\n", strings.Join(c.Errors, ", "))
		}
		fmt.Fprintf(&w, "\n%s:\n\n```json\n%s\n```\n\n", c.ExampleLabel, c.Example)
	}
	if len(p.Channels) > 0 {
		w.WriteString("## Channels\n\n| channel | message | keeps | doc |\n|---|---|---|---|\n")
		for _, ch := range p.Channels {
			name := mdCellCode(ch.Pattern)
			if ch.Glob {
				name += " (pattern)"
			}
			fmt.Fprintf(&w, "| %s | %s | %s | %s |\n", name, mdCellCode(ch.Message), mdCell(ch.Keeps), mdCell(ch.Doc))
		}
		w.WriteString("\n")
	}
	if len(p.Types) > 0 {
		w.WriteString("## Types\n\n")
	}
	for _, t := range p.Types {
		fmt.Fprintf(&w, "### %s\n\n", mdText(t.Name))
		if t.Doc != "" {
			fmt.Fprintf(&w, "%s\n\n", t.Doc)
		}
		if t.Type != "" {
			fmt.Fprintf(&w, "%s\n\n", mdCode(t.Type))
			continue
		}
		w.WriteString("| field | type | required | notes |\n|---|---|---|---|\n")
		for _, f := range t.Fields {
			req := ""
			if f.Required {
				req = "yes"
			}
			fmt.Fprintf(&w, "| %s | %s | %s | %s |\n", mdCellCode(f.Name), mdCellCode(f.Type), req, mdCell(f.Notes))
		}
		w.WriteString("\n")
	}
	return bytes.TrimSuffix(w.Bytes(), []byte("\n"))
}

var mdSpecial = regexp.MustCompile(`([\\` + "`" + `*_{}\[\]<>#|])`)

func mdText(s string) string { return mdSpecial.ReplaceAllString(s, `\$1`) }

// mdCell writes s as inline code inside a table cell, where | must be
// escaped even in code.
func mdCellCode(s string) string {
	return mdCode(strings.ReplaceAll(s, "|", `\|`))
}

// mdCode writes s as inline code.
func mdCode(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

func mdCell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

var slugDrop = regexp.MustCompile(`[^\p{L}\p{N}_\- ]+`)

// uniqueSlug is the anchor GitHub gives a heading: its text in lower
// case, without punctuation, spaces as hyphens, and -1, -2... after the
// first heading of the same anchor.
func uniqueSlug(seen map[string]int, s string) string {
	slug := strings.ReplaceAll(slugDrop.ReplaceAllString(strings.ToLower(s), ""), " ", "-")
	n := seen[slug]
	seen[slug] = n + 1
	if n > 0 {
		return fmt.Sprintf("%s-%d", slug, n)
	}
	return slug
}

//go:embed page.html.tmpl
var pageTemplate string

var htmlPage = template.Must(template.New("page").Parse(pageTemplate))

// HTML returns the reference of the service doc describes as a
// standalone HTML page (styles inline, no scripts).
func HTML(doc *introspect.Document, opts Options) ([]byte, error) {
	var w bytes.Buffer
	if err := htmlPage.Execute(&w, build(doc, opts)); err != nil {
		return nil, err
	}
	return w.Bytes(), nil
}

// channelKeeps says what a channel keeps and allows, in words.
func channelKeeps(ch introspect.Channel) string {
	var parts []string
	if h := ch.History; h != nil {
		p := fmt.Sprintf("history of %d", h.Size)
		if h.TTLMillis > 0 {
			p += fmt.Sprintf(" for %v", time.Duration(h.TTLMillis)*time.Millisecond)
		}
		parts = append(parts, p)
	}
	switch {
	case ch.JoinLeave:
		parts = append(parts, "presence with joins and leaves")
	case ch.Presence:
		parts = append(parts, "presence")
	}
	if ch.Publish {
		parts = append(parts, "clients may publish")
	}
	return strings.Join(parts, "; ")
}
