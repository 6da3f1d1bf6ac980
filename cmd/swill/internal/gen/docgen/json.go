package docgen

import (
	"encoding/json"
	"strings"

	"github.com/swillorg/swill-go/cmd/swill/internal/svcdesc"
)

// exampleWidth is the longest line an example is kept on.
const exampleWidth = 72

// formatJSON writes an example value as JSON for people: on one line
// when it fits, otherwise one member or element per line, each nested
// value again on one line when it fits.
func formatJSON(v any) string {
	return formatAt(v, "")
}

func formatAt(v any, indent string) string {
	flat := flatJSON(v)
	if len(indent)+len(flat) <= exampleWidth {
		return flat
	}
	inner := indent + "  "
	var parts []string
	switch x := v.(type) {
	case svcdesc.Object:
		if len(x) == 0 {
			return flat
		}
		for _, m := range x {
			k, _ := json.Marshal(m.Name)
			parts = append(parts, inner+string(k)+": "+formatAt(m.Value, inner))
		}
		return "{\n" + strings.Join(parts, ",\n") + "\n" + indent + "}"
	case []any:
		if len(x) == 0 {
			return flat
		}
		for _, e := range x {
			parts = append(parts, inner+formatAt(e, inner))
		}
		return "[\n" + strings.Join(parts, ",\n") + "\n" + indent + "]"
	}
	return flat
}

// flatJSON writes v on one line with a space after each comma and colon.
func flatJSON(v any) string {
	switch x := v.(type) {
	case svcdesc.Object:
		parts := make([]string, len(x))
		for i, m := range x {
			k, _ := json.Marshal(m.Name)
			parts[i] = string(k) + ": " + flatJSON(m.Value)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = flatJSON(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}
