package swill_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/swill/validate"
)

// SignupForm is a request type checked by its validate tags.
type SignupForm struct {
	Name  string `msgpack:"name" validate:"required,min=2"`
	Email string `msgpack:"email" validate:"required,email"`
	Age   int    `msgpack:"age" validate:"required,gte=13"`
}

// printAsJSON prints v as JSON (map keys sorted).
func printAsJSON(v any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

// A request that breaks its tags is refused with ERROR 422 before the
// handler runs; the error's data names each field by its wire name.
func Example_validation() {
	srv := swill.NewServer(swill.WithValidator(validate.New()))
	_ = srv.Register(swill.Unary("signup", func(ctx context.Context, req SignupForm) (string, error) {
		return "welcome " + req.Name, nil
	}))
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(context.Background())

	ctx := context.Background()
	c, err := clientgo.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	_, err = clientgo.Call[SignupForm, string](ctx, c, "signup", SignupForm{Name: "A", Email: "a@example", Age: 5})
	var e *rpc.Error
	if errors.As(err, &e) {
		fmt.Println(int(e.Code), e.Message)
		printAsJSON(e.Data)
	}
	res, err := clientgo.Call[SignupForm, string](ctx, c, "signup", SignupForm{Name: "Ada", Email: "ada@example.com", Age: 36})
	fmt.Println(res, err)
	// Output:
	// 422 Validation Error
	// {"age":[{"description":"less than 13"}],"email":[{"description":"must be a valid email address"}],"name":[{"description":"length less than 2"}]}
	// welcome Ada <nil>
}
