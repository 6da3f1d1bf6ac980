package validate_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-playground/validator/v10"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/swill/validate"
)

// printAsJSON prints v as JSON (map keys sorted).
func printAsJSON(v any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

// CartOrder has a rule across fields: a Validate method reports it with
// [swill.Invalid], and nested values are reported under their path.
type CartOrder struct {
	Items    []CartItem `msgpack:"items" validate:"required,dive"`
	Discount int        `msgpack:"discount" validate:"gte=0,lte=100"`
	Coupon   string     `msgpack:"coupon"`
}

// CartItem is one line of an order.
type CartItem struct {
	SKU string `msgpack:"sku" validate:"required"`
	Qty int    `msgpack:"qty" validate:"gt=0"`
}

// Validate implements the cross-field rule: a discount needs a coupon.
func (o CartOrder) Validate() error {
	if o.Discount > 0 && o.Coupon == "" {
		return swill.Invalid("coupon", "is required with a discount")
	}
	return nil
}

// The validator checks the tags, then the Validate methods; the
// violations give the wire layout of the 422 error's data.
func ExampleNew() {
	v := validate.New()

	err := v.Validate(&CartOrder{Items: []CartItem{{SKU: "a", Qty: 1}, {Qty: 0}}})
	var vs swill.Violations
	if errors.As(err, &vs) {
		printAsJSON(vs.Data())
	}

	err = v.Validate(&CartOrder{Items: []CartItem{{SKU: "a", Qty: 1}}, Discount: 10})
	fmt.Println(err)
	// Output:
	// {"items":[{"errors":[{"errors":[{"description":"is required"}],"field":"sku"},{"errors":[{"description":"less than or equal to 0"}],"field":"qty"}],"index":1}]}
	// validation failed: coupon: is required with a discount
}

// Custom tags are registered on a validator.Validate of your own, and
// every message can be replaced.
func ExampleWithEngine() {
	vv := validator.New(validator.WithRequiredStructEnabled())
	_ = vv.RegisterValidation("even", func(fl validator.FieldLevel) bool { return fl.Field().Int()%2 == 0 })

	v := validate.New(
		validate.WithEngine(vv),
		validate.WithTagMessage("even", func(fe validator.FieldError) string { return "must be even" }),
		validate.WithTagMessage("required", func(fe validator.FieldError) string { return "cannot be empty" }),
	)
	type Pair struct {
		N    int    `msgpack:"n" validate:"even"`
		Name string `msgpack:"name" validate:"required"`
	}
	var vs swill.Violations
	errors.As(v.Validate(&Pair{N: 3}), &vs)
	printAsJSON(vs.Data())
	// A server uses it with swill.NewServer(swill.WithValidator(v)).
	// Output:
	// {"n":[{"description":"must be even"}],"name":[{"description":"cannot be empty"}]}
}
