package swill

import (
	"errors"

	"github.com/swillorg/swill-go/rpc"
)

// Validator checks a decoded request message before the handler runs.
type Validator interface {
	// Validate returns nil when v (a pointer to the decoded request) is
	// acceptable. An [*rpc.Error] is sent as it is; any other error
	// becomes ERROR 422 "Validation Error".
	Validate(v any) error
}

func asValidationError(err error) error {
	var e *rpc.Error
	if errors.As(err, &e) {
		return e
	}
	return rpc.NewError(rpc.CodeValidation, "Validation Error").WithData(map[string]any{"": []map[string]any{{"description": err.Error()}}})
}

// NewValidator returns the default validator. PLACEHOLDER until the
// go-playground based validator lands.
func NewValidator() Validator { return nil }
