package validate

import (
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
)

// DefaultMessage returns the description the default validator gives a
// failed tag when no [WithTagMessage] or [WithTranslator] function replaces it.
//
// The comparisons keep the wording of the reference Swill server, which
// describes what is wrong with the value: gt=N fails as "less than or
// equal to N", gte=N as "less than N", lt=N as "greater than or equal to
// N", lte=N as "greater than N"; on strings, lists and maps they speak of
// the length ("length less than N"), as min=N and max=N do ("length less
// than N", "length greater than N"; on numbers min and max read like gte
// and lte). Other tags read as what the value must be: "is required",
// "must be a valid email address", "must be one of: a b c". Alternatives
// (email|url) join theirs with "or". A tag without a message of its own
// fails as: fails the "tag=param" check.
func DefaultMessage(fe validator.FieldError) string {
	tag, param := fe.Tag(), fe.Param()
	if strings.Contains(tag, "|") {
		alts := strings.Split(tag, "|")
		parts := make([]string, len(alts))
		for i, alt := range alts {
			t, p, _ := strings.Cut(alt, "=")
			parts[i] = requirement(t, p, fe.Kind(), fe.Type())
		}
		return strings.Join(parts, " or ")
	}
	if fe.Type() == timeType && param == "" {
		return requirement(tag, param, fe.Kind(), fe.Type())
	}
	length := ""
	if hasLength(fe.Kind()) {
		length = "length "
	}
	switch tag {
	case "gt":
		return length + "less than or equal to " + param
	case "gte", "min":
		return length + "less than " + param
	case "lt":
		return length + "greater than or equal to " + param
	case "lte", "max":
		return length + "greater than " + param
	}
	return requirement(tag, param, fe.Kind(), fe.Type())
}

func hasLength(k reflect.Kind) bool {
	switch k {
	case reflect.String, reflect.Slice, reflect.Array, reflect.Map:
		return true
	}
	return false
}

// requirement says what a value must be to pass tag, as a sentence
// fragment starting with "must" or "is".
func requirement(tag, param string, kind reflect.Kind, t reflect.Type) string {
	if t == timeType && param == "" {
		switch tag {
		case "gt":
			return "must be after the current time"
		case "gte":
			return "must not be before the current time"
		case "lt":
			return "must be before the current time"
		case "lte":
			return "must not be after the current time"
		}
	}
	length := hasLength(kind)
	if m, ok := comparisons[tag]; ok {
		if length {
			return "must have a length " + m + " " + param
		}
		return "must be " + m + " " + param
	}
	if m, ok := plainMessages[tag]; ok {
		return m
	}
	if m, ok := paramMessages[tag]; ok {
		return m + param
	}
	switch tag {
	case "len":
		if length {
			return "must have a length of " + param
		}
		return "must be equal to " + param
	case "eq", "eq_ignore_case":
		return "must be equal to " + param
	case "ne", "ne_ignore_case":
		return "must not be equal to " + param
	}
	if param == "" {
		return `fails the "` + tag + `" check`
	}
	return `fails the "` + tag + "=" + param + `" check`
}

var comparisons = map[string]string{
	"gt":  "greater than",
	"gte": "at least",
	"min": "at least",
	"lt":  "less than",
	"lte": "at most",
	"max": "at most",
}

var paramMessages = map[string]string{
	"oneof":         "must be one of: ",
	"oneofci":       "must be one of (ignoring case): ",
	"eqfield":       "must be equal to the field ",
	"eqcsfield":     "must be equal to the field ",
	"nefield":       "must not be equal to the field ",
	"necsfield":     "must not be equal to the field ",
	"gtfield":       "must be greater than the field ",
	"gtcsfield":     "must be greater than the field ",
	"gtefield":      "must be greater than or equal to the field ",
	"gtecsfield":    "must be greater than or equal to the field ",
	"ltfield":       "must be less than the field ",
	"ltcsfield":     "must be less than the field ",
	"ltefield":      "must be less than or equal to the field ",
	"ltecsfield":    "must be less than or equal to the field ",
	"fieldcontains": "must contain the field ",
	"fieldexcludes": "must not contain the field ",
	"contains":      "must contain ",
	"containsany":   "must contain at least one of the characters ",
	"containsrune":  "must contain ",
	"excludes":      "must not contain ",
	"excludesall":   "must not contain any of the characters ",
	"excludesrune":  "must not contain ",
	"startswith":    "must start with ",
	"endswith":      "must end with ",
	"startsnotwith": "must not start with ",
	"endsnotwith":   "must not end with ",
	"datetime":      "must be a date and time in the layout ",
}

var plainMessages = map[string]string{
	"required":             "is required",
	"required_if":          "is required",
	"required_unless":      "is required",
	"required_with":        "is required",
	"required_with_all":    "is required",
	"required_without":     "is required",
	"required_without_all": "is required",
	"excluded_if":          "must not be set",
	"excluded_unless":      "must not be set",
	"excluded_with":        "must not be set",
	"excluded_with_all":    "must not be set",
	"excluded_without":     "must not be set",
	"excluded_without_all": "must not be set",
	"isdefault":            "must not be set",
	"email":                "must be a valid email address",
	"url":                  "must be a valid URL",
	"http_url":             "must be a valid HTTP URL",
	"https_url":            "must be a valid HTTPS URL",
	"uri":                  "must be a valid URI",
	"url_encoded":          "must be URL-encoded",
	"uuid":                 "must be a valid UUID",
	"uuid3":                "must be a valid version 3 UUID",
	"uuid4":                "must be a valid version 4 UUID",
	"uuid5":                "must be a valid version 5 UUID",
	"uuid_rfc4122":         "must be a valid UUID",
	"ulid":                 "must be a valid ULID",
	"ip":                   "must be a valid IP address",
	"ip_addr":              "must be a valid IP address",
	"ipv4":                 "must be a valid IPv4 address",
	"ip4_addr":             "must be a valid IPv4 address",
	"ipv6":                 "must be a valid IPv6 address",
	"ip6_addr":             "must be a valid IPv6 address",
	"cidr":                 "must be a valid CIDR network",
	"cidrv4":               "must be a valid IPv4 CIDR network",
	"cidrv6":               "must be a valid IPv6 CIDR network",
	"mac":                  "must be a valid MAC address",
	"hostname":             "must be a valid hostname",
	"hostname_rfc1123":     "must be a valid hostname",
	"fqdn":                 "must be a fully qualified domain name",
	"hostname_port":        "must be a valid host:port",
	"alpha":                "must contain only letters",
	"alphanum":             "must contain only letters and digits",
	"alphaunicode":         "must contain only letters",
	"alphanumunicode":      "must contain only letters and digits",
	"ascii":                "must contain only ASCII characters",
	"printascii":           "must contain only printable ASCII characters",
	"numeric":              "must be numeric",
	"number":               "must be a number",
	"hexadecimal":          "must be hexadecimal",
	"boolean":              "must be a boolean",
	"lowercase":            "must be lowercase",
	"uppercase":            "must be uppercase",
	"unique":               "must contain unique values",
	"json":                 "must be valid JSON",
	"jwt":                  "must be a valid JWT",
	"base64":               "must be valid base64",
	"base64url":            "must be valid base64url",
	"base64rawurl":         "must be valid unpadded base64url",
	"hexcolor":             "must be a hexadecimal color",
	"rgb":                  "must be an RGB color",
	"rgba":                 "must be an RGBA color",
	"hsl":                  "must be an HSL color",
	"hsla":                 "must be an HSLA color",
	"iscolor":              "must be a color",
	"e164":                 "must be a phone number in E.164 format",
	"semver":               "must be a semantic version",
	"timezone":             "must be a valid time zone",
	"latitude":             "must be a valid latitude",
	"longitude":            "must be a valid longitude",
	"iso3166_1_alpha2":     "must be a two-letter country code",
	"iso3166_1_alpha3":     "must be a three-letter country code",
	"iso4217":              "must be a currency code",
	"bcp47_language_tag":   "must be a language tag",
	"cron":                 "must be a cron expression",
}
