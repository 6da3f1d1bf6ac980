// Package validate checks request messages against the validate struct
// tags of github.com/go-playground/validator/v10 before the handler runs.
//
// A server checks only the Validate() error methods of its requests
// ([swill.ValidateMethods]) unless it is given this package's validator:
//
//	srv := swill.NewServer(swill.WithValidator(validate.New()))
//
// A request that fails is refused with ERROR 422 "Validation Error",
// whose data lists every failed check under the wire name of its field
// (see [swill.Violations.Data]); the wording of each check follows the
// reference Swill server ([DefaultMessage]). The package lives apart from
// swill so that a server that does not check tags does not depend on
// go-playground/validator.
package validate
