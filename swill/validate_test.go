package swill_test

import (
	"context"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/swill/validate"
)

// requestFrame encodes a request frame as the reference clients do.
func requestFrame(tb testing.TB, seq int64, name string, typ wire.FrameType, data any) []byte {
	tb.Helper()
	return requestFrameMD(tb, seq, name, typ, data, nil)
}

// requestFrameMD encodes a request frame with metadata.
func requestFrameMD(tb testing.TB, seq int64, name string, typ wire.FrameType, data any, md rpc.Metadata) []byte {
	tb.Helper()
	b := &wire.Buffer{}
	enc := wire.GetEncoder()
	defer wire.PutEncoder(enc)
	require.NoError(tb, enc.Request(b, seq, name, typ, data, md))
	return b.B
}

// errorFrame encodes the ERROR frame the server must send.
func errorFrame(seq int64, e *rpc.Error) string {
	b := &wire.Buffer{}
	enc := wire.GetEncoder()
	defer wire.PutEncoder(enc)
	enc.Error(b, seq, e)
	return hex.EncodeToString(b.B)
}

// resultFrame encodes a MESSAGE frame without metadata.
func resultFrame(tb testing.TB, seq int64, typ wire.FrameType, v any) string {
	tb.Helper()
	b := &wire.Buffer{}
	enc := wire.GetEncoder()
	defer wire.PutEncoder(enc)
	require.NoError(tb, enc.Response(b, seq, typ, v, nil, nil))
	return hex.EncodeToString(b.B)
}

func validationError(data map[string]any) *rpc.Error {
	return rpc.NewError(rpc.CodeValidation, "Validation Error").WithData(data)
}

// desc builds the entry list of one failed check per description.
func wantDescs(ds ...string) []any {
	out := make([]any, len(ds))
	for i, d := range ds {
		out[i] = map[string]any{"description": d}
	}
	return out
}

func wantNested(kind string, id any, errs []any) []any {
	return []any{map[string]any{kind: id, "errors": errs}}
}

type address struct {
	City string `msgpack:"city" validate:"required"`
	Zip  string `msgpack:"zip" validate:"len=5,numeric"`
}

type lineItem struct {
	SKU string `msgpack:"sku" validate:"required"`
	Qty int    `msgpack:"qty" validate:"gt=0,lte=100"`
}

type origin struct {
	Source string `msgpack:"source" validate:"omitempty,oneof=web app"`
}

type order struct {
	origin
	Name     string         `msgpack:"name" validate:"required,min=2,max=10"`
	Email    string         `msgpack:"email" validate:"email"`
	Age      int            `msgpack:"age" validate:"gte=13,lt=130"`
	Score    float64        `msgpack:"score" validate:"gt=0,lte=10"`
	Color    string         `msgpack:"color" validate:"oneof=red green blue"`
	Tags     []string       `msgpack:"tags" validate:"min=1,max=3,dive,min=2"`
	Address  address        `msgpack:"address"`
	Items    []lineItem     `msgpack:"items" validate:"dive"`
	Limits   map[string]int `msgpack:"limits" validate:"dive,keys,min=2,endkeys,gte=0"`
	Note     *string        `msgpack:"note,omitempty" validate:"omitempty,max=5"`
	Code     string         `json:"code" validate:"omitempty,startswith=X"`
	Password string         `msgpack:"password"`
	Confirm  string         `msgpack:"confirm" validate:"eqfield=Password"`
	Plain    string         `validate:"omitempty,lowercase"`
}

func validOrder() order {
	return order{
		Name:    "Ada",
		Email:   "ada@example.com",
		Age:     36,
		Score:   9.5,
		Color:   "red",
		Tags:    []string{"vip"},
		Address: address{City: "London", Zip: "12345"},
		Items:   []lineItem{{SKU: "a", Qty: 1}, {SKU: "b", Qty: 2}},
		Limits:  map[string]int{"daily": 3},
	}
}

func validationServer(t *testing.T, opts ...swill.Option) *swilltest.Server {
	t.Helper()
	srv := swilltest.NewServer(opts...)
	require.NoError(t, srv.Register(
		swill.Unary("order", func(ctx context.Context, o order) (string, error) { return "ok " + o.Name, nil }),
	))
	return swilltest.Start(t, srv)
}

// TestValidationTags sends one invalid order per case over a loopback
// socket and compares the ERROR frame byte for byte.
func TestValidationTags(t *testing.T) {
	srv := validationServer(t)
	long := "toolong"
	cases := []struct {
		name   string
		mutate func(*order)
		want   map[string]any
	}{
		{"required", func(o *order) { o.Name = "" }, map[string]any{"name": wantDescs("is required")}},
		{"min on a string", func(o *order) { o.Name = "A" }, map[string]any{"name": wantDescs("length less than 2")}},
		{"max on a string", func(o *order) { o.Name = "Bartholomew" }, map[string]any{"name": wantDescs("length greater than 10")}},
		{"email", func(o *order) { o.Email = "ada" }, map[string]any{"email": wantDescs("must be a valid email address")}},
		{"gte", func(o *order) { o.Age = 5 }, map[string]any{"age": wantDescs("less than 13")}},
		{"gte accepts its bound", func(o *order) { o.Age = 13 }, nil},
		{"lt", func(o *order) { o.Age = 130 }, map[string]any{"age": wantDescs("greater than or equal to 130")}},
		{"gt", func(o *order) { o.Score = 0 }, map[string]any{"score": wantDescs("less than or equal to 0")}},
		{"lte", func(o *order) { o.Score = 10.5 }, map[string]any{"score": wantDescs("greater than 10")}},
		{"oneof", func(o *order) { o.Color = "pink" }, map[string]any{"color": wantDescs("must be one of: red green blue")}},
		{"min on a slice", func(o *order) { o.Tags = []string{} }, map[string]any{"tags": wantDescs("length less than 1")}},
		{"max on a slice", func(o *order) { o.Tags = []string{"aa", "bb", "cc", "dd"} }, map[string]any{"tags": wantDescs("length greater than 3")}},
		{"dive into a list", func(o *order) { o.Tags = []string{"ok", "x", "y"} }, map[string]any{"tags": []any{
			map[string]any{"index": 1, "errors": wantDescs("length less than 2")},
			map[string]any{"index": 2, "errors": wantDescs("length less than 2")},
		}}},
		{"nested struct", func(o *order) { o.Address.City = "" }, map[string]any{"address": wantNested("field", "city", wantDescs("is required"))}},
		{"len and numeric", func(o *order) { o.Address.Zip = "12a45" }, map[string]any{"address": wantNested("field", "zip", wantDescs("must be numeric"))}},
		{"len", func(o *order) { o.Address.Zip = "123" }, map[string]any{"address": wantNested("field", "zip", wantDescs("must have a length of 5"))}},
		{"structs in a list", func(o *order) { o.Items[1].Qty = 0 }, map[string]any{"items": wantNested("index", 1, wantNested("field", "qty", wantDescs("less than or equal to 0")))}},
		{"two fields of one element", func(o *order) { o.Items[0] = lineItem{Qty: 101} }, map[string]any{"items": wantNested("index", 0, []any{
			map[string]any{"field": "sku", "errors": wantDescs("is required")},
			map[string]any{"field": "qty", "errors": wantDescs("greater than 100")},
		})}},
		{"map keys and values, ordered by key", func(o *order) { o.Limits = map[string]int{"zz": -1, "a": 1, "mm": -2} }, map[string]any{"limits": []any{
			map[string]any{"key": "a", "errors": wantDescs("length less than 2")},
			map[string]any{"key": "mm", "errors": wantDescs("less than 0")},
			map[string]any{"key": "zz", "errors": wantDescs("less than 0")},
		}}},
		{"pointer", func(o *order) { o.Note = &long }, map[string]any{"note": wantDescs("length greater than 5")}},
		{"json tag names the field", func(o *order) { o.Code = "Y1" }, map[string]any{"code": wantDescs("must start with X")}},
		{"untagged field keeps its Go name", func(o *order) { o.Plain = "ABC" }, map[string]any{"Plain": wantDescs("must be lowercase")}},
		{"embedded struct flattened", func(o *order) { o.Source = "fax" }, map[string]any{"source": wantDescs("must be one of: web app")}},
		{"other field named by its wire name", func(o *order) { o.Password = "secret" }, map[string]any{"confirm": wantDescs("must be equal to the field password")}},
		{"several fields, sorted", func(o *order) { o.Name, o.Age, o.Color = "A", 5, "" }, map[string]any{
			"name":  wantDescs("length less than 2"),
			"age":   wantDescs("less than 13"),
			"color": wantDescs("must be one of: red green blue"),
		}},
	}
	c := swilltest.Dial(t, srv.URL)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := validOrder()
			tc.mutate(&o)
			seq := int64(i + 1)
			c.Send(requestFrame(t, seq, "order", wire.TypeMessage, o))
			got := hex.EncodeToString(c.Recv(5 * time.Second))
			if tc.want == nil {
				assert.Equal(t, resultFrame(t, seq, wire.TypeMessage, "ok "+o.Name), got)
				return
			}
			assert.Equal(t, errorFrame(seq, validationError(tc.want)), got)
		})
	}
}

// TestValidationMatchesReference checks the reference's own example bytes
// for the demo's signup.
func TestValidationMatchesReference(t *testing.T) {
	srv := swilltest.StartDemo(t)
	c := swilltest.Dial(t, srv.URL, rpc.LegacySubprotocol)
	c.Send(requestFrame(t, 1, "signup", wire.TypeMessage, map[string]any{"name": "A", "email": "a@example.com", "age": 5}))
	want := "950183a4636f6465cd01a6a76d657373616765b056616c69646174696f6e204572726f72a46461746182a36167659181ab6465736372697074696f6eac6c657373207468616e203133a46e616d659181ab6465736372697074696f6eb26c656e677468206c657373207468616e203203c0c0"
	assert.Equal(t, want, hex.EncodeToString(c.Recv(5*time.Second)))
	// The connection stays usable.
	c.Send(requestFrame(t, 2, "add", wire.TypeMessage, []int{20, 22}))
	assert.Equal(t, resultFrame(t, 2, wire.TypeMessage, 42), hex.EncodeToString(c.Recv(5*time.Second)))
}

type spanPart struct {
	Name string `msgpack:"name"`
}

func (p *spanPart) Validate() error {
	switch p.Name {
	case "bad":
		return swill.Violations{{Path: []any{"name"}, Description: "is bad"}}
	case "worse":
		return errors.New("is worse")
	}
	return nil
}

type spanReq struct {
	From  int        `msgpack:"from" validate:"gte=0"`
	To    int        `msgpack:"to"`
	Parts []spanPart `msgpack:"parts"`
}

func (s spanReq) Validate() error {
	switch {
	case s.From == 42:
		return errors.New("the answer is not a start")
	case s.From == 403:
		return rpc.NewError(rpc.CodeForbidden, "spans from 403 are forbidden")
	case s.From == 7:
		return errors.Join(swill.Invalid("from", "is unlucky"), swill.Invalid("to", "follows an unlucky start"))
	case s.To < s.From:
		return swill.Invalid("to", "must not be before from")
	}
	return nil
}

// TestValidateMethod checks rules across fields written as a Validate
// method, over a loopback socket.
func TestValidateMethod(t *testing.T) {
	srv := swilltest.NewServer()
	require.NoError(t, srv.Register(
		swill.Unary("span", func(ctx context.Context, s spanReq) (int, error) { return s.To - s.From, nil }),
	))
	url := swilltest.Start(t, srv).URL
	cases := []struct {
		name string
		in   spanReq
		want *rpc.Error
	}{
		{"valid", spanReq{From: 1, To: 3}, nil},
		{"one field", spanReq{From: 3, To: 1}, validationError(map[string]any{"to": wantDescs("must not be before from")})},
		{"joined", spanReq{From: 7, To: 9}, validationError(map[string]any{"from": wantDescs("is unlucky"), "to": wantDescs("follows an unlucky start")})},
		{"plain error is about the whole request", spanReq{From: 42, To: 50}, validationError(map[string]any{"": wantDescs("the answer is not a start")})},
		{"rpc error sent as is", spanReq{From: 403, To: 500}, rpc.NewError(rpc.CodeForbidden, "spans from 403 are forbidden")},
		{"tags first; methods only once they pass", spanReq{From: -1, To: -5}, validationError(map[string]any{"from": wantDescs("less than 0")})},
		{"nested method, pointer receiver", spanReq{From: 1, To: 2, Parts: []spanPart{{"ok"}, {"bad"}}},
			validationError(map[string]any{"parts": wantNested("index", 1, wantNested("field", "name", wantDescs("is bad")))})},
		{"nested and outer together", spanReq{From: 2, To: 1, Parts: []spanPart{{"worse"}}}, validationError(map[string]any{
			"parts": wantNested("index", 0, wantDescs("is worse")),
			"to":    wantDescs("must not be before from"),
		})},
	}
	c := swilltest.Dial(t, url)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seq := int64(i + 1)
			c.Send(requestFrame(t, seq, "span", wire.TypeMessage, tc.in))
			got := hex.EncodeToString(c.Recv(5 * time.Second))
			if tc.want == nil {
				assert.Equal(t, resultFrame(t, seq, wire.TypeMessage, tc.in.To-tc.in.From), got)
				return
			}
			assert.Equal(t, errorFrame(seq, tc.want), got)
		})
	}
}

// TestValidationClientStream fails a client stream at its first invalid
// item: the handler has seen the items before it and no more.
func TestValidationClientStream(t *testing.T) {
	seen := make(chan lineItem, 10)
	srv := swilltest.NewServer()
	require.NoError(t, srv.Register(
		swill.ClientStream("total", func(ctx context.Context, in <-chan lineItem) (int, error) {
			total := 0
			for it := range in {
				seen <- it
				total += it.Qty
			}
			return total, ctx.Err()
		}),
	))
	url := swilltest.Start(t, srv).URL
	c := swilltest.Dial(t, url)

	// A valid stream.
	c.Send(requestFrame(t, 1, "total", wire.TypeMessage, lineItem{SKU: "a", Qty: 2}))
	c.Send(requestFrame(t, 1, "total", wire.TypeMessage, lineItem{SKU: "b", Qty: 3}))
	c.Send(requestFrame(t, 1, "total", wire.TypeEndOfStream, nil))
	assert.Equal(t, resultFrame(t, 1, wire.TypeMessage, 5), hex.EncodeToString(c.Recv(5*time.Second)))
	<-seen
	<-seen

	// The third item is invalid.
	c.Send(requestFrame(t, 2, "total", wire.TypeMessage, lineItem{SKU: "a", Qty: 1}))
	c.Send(requestFrame(t, 2, "total", wire.TypeMessage, lineItem{SKU: "b", Qty: 1}))
	c.Send(requestFrame(t, 2, "total", wire.TypeMessage, lineItem{SKU: "", Qty: 1}))
	want := validationError(map[string]any{"sku": wantDescs("is required")})
	assert.Equal(t, errorFrame(2, want), hex.EncodeToString(c.Recv(5*time.Second)))
	// The call is over: its END_OF_STREAM is ignored, and nothing follows
	// the ERROR.
	c.Send(requestFrame(t, 2, "total", wire.TypeEndOfStream, nil))
	c.Quiet(100 * time.Millisecond)
	assert.Equal(t, []string{"a", "b"}, []string{(<-seen).SKU, (<-seen).SKU})
	assert.Empty(t, seen)
}

// TestValidationServerStream refuses an invalid server-stream request
// before any item.
func TestValidationServerStream(t *testing.T) {
	srv := swilltest.NewServer()
	require.NoError(t, srv.Register(
		swill.ServerStream("repeat", func(ctx context.Context, it lineItem, out chan<- string) error {
			for i := 0; i < it.Qty; i++ {
				out <- it.SKU
			}
			return nil
		}),
	))
	c := swilltest.Dial(t, swilltest.Start(t, srv).URL)
	c.Send(requestFrame(t, 1, "repeat", wire.TypeMessage, lineItem{SKU: "x", Qty: 500}))
	want := validationError(map[string]any{"qty": wantDescs("greater than 100")})
	assert.Equal(t, errorFrame(1, want), hex.EncodeToString(c.Recv(5*time.Second)))
	c.Quiet(100 * time.Millisecond)
}

type evenPair struct {
	N    int    `msgpack:"n" validate:"even"`
	Name string `msgpack:"name" validate:"required,min=3"`
}

// TestValidatorOptions registers a custom tag and replaces messages.
func TestValidatorOptions(t *testing.T) {
	v := validator.New()
	require.NoError(t, v.RegisterValidation("even", func(fl validator.FieldLevel) bool { return fl.Field().Int()%2 == 0 }))
	rv := validate.New(
		validate.WithEngine(v),
		validate.WithTagMessage("even", func(fe validator.FieldError) string { return "must be even" }),
		validate.WithTagMessage("min", func(fe validator.FieldError) string { return "at least " + fe.Param() + " characters" }),
		validate.WithTranslator(func(fe validator.FieldError) string {
			if fe.Tag() == "required" {
				return "est obligatoire"
			}
			return ""
		}),
	)
	srv := swilltest.NewServer(swill.WithValidator(rv))
	require.NoError(t, srv.Register(swill.Unary("even", func(ctx context.Context, e evenPair) (int, error) { return e.N, nil })))
	c := swilltest.Dial(t, swilltest.Start(t, srv).URL)

	c.Send(requestFrame(t, 1, "even", wire.TypeMessage, evenPair{N: 3, Name: "ab"}))
	want := validationError(map[string]any{"n": wantDescs("must be even"), "name": wantDescs("at least 3 characters")})
	assert.Equal(t, errorFrame(1, want), hex.EncodeToString(c.Recv(5*time.Second)))

	c.Send(requestFrame(t, 2, "even", wire.TypeMessage, evenPair{N: 4}))
	want = validationError(map[string]any{"name": wantDescs("est obligatoire")})
	assert.Equal(t, errorFrame(2, want), hex.EncodeToString(c.Recv(5*time.Second)))

	c.Send(requestFrame(t, 3, "even", wire.TypeMessage, evenPair{N: 4, Name: "abc"}))
	assert.Equal(t, resultFrame(t, 3, wire.TypeMessage, 4), hex.EncodeToString(c.Recv(5*time.Second)))
}

// TestValidationDisabled lets invalid requests reach the handler.
func TestValidationDisabled(t *testing.T) {
	srv := validationServer(t, swill.WithValidator(nil))
	c := swilltest.Dial(t, srv.URL)
	c.Send(requestFrame(t, 1, "order", wire.TypeMessage, order{Name: "A"}))
	assert.Equal(t, resultFrame(t, 1, wire.TypeMessage, "ok A"), hex.EncodeToString(c.Recv(5*time.Second)))
}

// TestDefaultValidation: a server given no validator runs the requests'
// Validate methods and leaves validate tags alone, which take package
// validate; the core does not depend on go-playground/validator.
func TestDefaultValidation(t *testing.T) {
	// Served with swill.NewServer's defaults whatever the test transport:
	// swilltest.NewServer adds a tag validator.
	url, _ := startDefault(t, []*swill.Handler{
		swill.Unary("order", func(ctx context.Context, o order) (string, error) { return "ok " + o.Name, nil }),
		swill.Unary("span", func(ctx context.Context, s spanReq) (int, error) { return s.To - s.From, nil }),
	}, 0)
	c := swilltest.Dial(t, url)
	c.Send(requestFrame(t, 1, "order", wire.TypeMessage, order{Name: "A"}))
	assert.Equal(t, resultFrame(t, 1, wire.TypeMessage, "ok A"), hex.EncodeToString(c.Recv(5*time.Second)), "tags are not checked")
	c.Send(requestFrame(t, 2, "span", wire.TypeMessage, spanReq{From: 5, To: 1}))
	assert.Equal(t, errorFrame(2, validationError(map[string]any{"to": wantDescs("must not be before from")})), hex.EncodeToString(c.Recv(5*time.Second)), "the Validate method ran")
	c.Send(requestFrame(t, 3, "span", wire.TypeMessage, spanReq{From: -1, To: 1}))
	assert.Equal(t, resultFrame(t, 3, wire.TypeMessage, 2), hex.EncodeToString(c.Recv(5*time.Second)), "the gte tag is not checked")
}

type customValidator struct{}

func (customValidator) Validate(v any) error {
	if o, ok := v.(*order); ok && o.Name == "root" {
		return errors.New("root may not order")
	}
	if o, ok := v.(*order); ok && o.Name == "many" {
		return errors.Join(swill.Invalid("name", "is taken"), errors.New("try again later"))
	}
	return nil
}

// TestCustomValidator plugs in a Validator of its own: its plain errors
// and violations reach the client in the same layout.
func TestCustomValidator(t *testing.T) {
	srv := validationServer(t, swill.WithValidator(customValidator{}))
	c := swilltest.Dial(t, srv.URL)
	c.Send(requestFrame(t, 1, "order", wire.TypeMessage, order{Name: "root"}))
	assert.Equal(t, errorFrame(1, validationError(map[string]any{"": wantDescs("root may not order")})), hex.EncodeToString(c.Recv(5*time.Second)))
	c.Send(requestFrame(t, 2, "order", wire.TypeMessage, order{Name: "many"}))
	assert.Equal(t, errorFrame(2, validationError(map[string]any{"": wantDescs("try again later"), "name": wantDescs("is taken")})), hex.EncodeToString(c.Recv(5*time.Second)))
}

type panicky struct {
	N int `msgpack:"n"`
}

func (p panicky) Validate() error {
	if p.N < 0 {
		panic("negative")
	}
	return nil
}

// TestValidatePanicInClientStream turns a panicking Validate method on a
// stream item into an internal error; the server stays up.
func TestValidatePanicInClientStream(t *testing.T) {
	srv := swilltest.NewServer()
	require.NoError(t, srv.Register(
		swill.ClientStream("count", func(ctx context.Context, in <-chan panicky) (int, error) {
			n := 0
			for range in {
				n++
			}
			return n, ctx.Err()
		}),
	))
	c := swilltest.Dial(t, swilltest.Start(t, srv).URL)
	c.Send(requestFrame(t, 1, "count", wire.TypeMessage, panicky{N: 1}))
	c.Send(requestFrame(t, 1, "count", wire.TypeMessage, panicky{N: -1}))
	assert.Equal(t, errorFrame(1, rpc.NewError(rpc.CodeInternal, "An internal server error occurred")), hex.EncodeToString(c.Recv(5*time.Second)))
	c.Send(requestFrame(t, 2, "count", wire.TypeMessage, panicky{N: 1}))
	c.Send(requestFrame(t, 2, "count", wire.TypeEndOfStream, nil))
	assert.Equal(t, resultFrame(t, 2, wire.TypeMessage, 1), hex.EncodeToString(c.Recv(5*time.Second)))
}

// TestValidatorDirect covers what the socket tests do not: requests that
// are not structs, map keys that need care, and the Go side of the
// violations.
func TestValidatorDirect(t *testing.T) {
	rv := validate.New()

	t.Run("list of structs", func(t *testing.T) {
		err := rv.Validate(&[]lineItem{{SKU: "a", Qty: 1}, {SKU: "", Qty: 1}})
		var vs swill.Violations
		require.ErrorAs(t, err, &vs)
		assert.Equal(t, map[string]any{"": wantNested("index", 1, wantNested("field", "sku", wantDescs("is required")))}, vs.Data())
		assert.Equal(t, "validation failed: [1].sku: is required", err.Error())
	})
	t.Run("map of structs", func(t *testing.T) {
		err := rv.Validate(&map[int]*lineItem{3: {SKU: "x", Qty: 0}, 1: {Qty: 1}, 2: nil})
		var vs swill.Violations
		require.ErrorAs(t, err, &vs)
		assert.Equal(t, []any{1, "sku"}, []any{vs[0].Path[0].(swill.MapKey).Key, vs[0].Path[1]})
		assert.Equal(t, "required", vs[0].Tag)
		assert.Equal(t, "gt", vs[1].Tag)
		assert.Equal(t, "0", vs[1].Param)
		assert.Equal(t, map[string]any{"": []any{
			map[string]any{"key": 1, "errors": wantNested("field", "sku", wantDescs("is required"))},
			map[string]any{"key": 3, "errors": wantNested("field", "qty", wantDescs("less than or equal to 0"))},
		}}, vs.Data())
	})
	t.Run("map key that looks like a path", func(t *testing.T) {
		type bag struct {
			M map[string]lineItem `msgpack:"m" validate:"dive"`
		}
		err := rv.Validate(&bag{M: map[string]lineItem{"a.b]": {Qty: 1}, "a": {SKU: "s", Qty: 1}}})
		var vs swill.Violations
		require.ErrorAs(t, err, &vs)
		assert.Equal(t, map[string]any{"m": wantNested("key", "a.b]", wantNested("field", "sku", wantDescs("is required")))}, vs.Data())
	})
	t.Run("scalars and untyped values pass", func(t *testing.T) {
		n, s := 5, "x"
		var anything any = map[string]any{"a": []any{1}}
		assert.NoError(t, rv.Validate(&n))
		assert.NoError(t, rv.Validate(&s))
		assert.NoError(t, rv.Validate(&anything))
		assert.NoError(t, rv.Validate(nil))
		assert.NoError(t, rv.Validate(&[2]int{1, 2}))
	})
	t.Run("nil pointer request", func(t *testing.T) {
		var o *order
		assert.NoError(t, rv.Validate(&o))
	})
	t.Run("tags reached through untagged fields", func(t *testing.T) {
		type wrapper struct {
			Note  string      `msgpack:"note"`
			Items []lineItem  `msgpack:"items"`
			Inner *lineItem   `msgpack:"inner"`
			Any   any         `msgpack:"any"`
			ByKey map[int]any `msgpack:"by_key"`
		}
		assert.NoError(t, rv.Validate(&wrapper{Note: "plain"}))
		err := rv.Validate(&wrapper{Inner: &lineItem{Qty: 1}})
		var vs swill.Violations
		require.ErrorAs(t, err, &vs)
		assert.Equal(t, []any{"inner", "sku"}, vs[0].Path)
		err = rv.Validate(&wrapper{Any: &lineItem{SKU: "s"}})
		require.ErrorAs(t, err, &vs)
		assert.Equal(t, "gt", vs[0].Tag)
	})
	t.Run("struct without constraints", func(t *testing.T) {
		type plain struct {
			ID   int64    `msgpack:"id"`
			Tags []string `msgpack:"tags"`
			At   time.Time
		}
		assert.NoError(t, rv.Validate(&plain{}))
		assert.NoError(t, rv.Validate(&[]plain{{}, {}}))
		assert.NoError(t, rv.Validate(&map[string]plain{"a": {}}))
	})
	t.Run("recursive type", func(t *testing.T) {
		type node struct {
			Name     string  `msgpack:"name" validate:"required"`
			Children []*node `msgpack:"children" validate:"dive"`
		}
		err := rv.Validate(&node{Name: "root", Children: []*node{{Name: "a", Children: []*node{{}}}}})
		var vs swill.Violations
		require.ErrorAs(t, err, &vs)
		assert.Equal(t, []any{"children", 0, "children", 0, "name"}, vs[0].Path)
	})
}

var stampCalls atomic.Int32

type stamp struct {
	By string `msgpack:"by"`
}

func (s stamp) Validate() error {
	stampCalls.Add(1)
	if s.By == "" {
		return swill.Invalid("by", "is missing")
	}
	return nil
}

type stamped struct {
	stamp
	Note string `msgpack:"note"`
}

type stampedOwn struct {
	stamp
	Note string `msgpack:"note"`
}

func (s stampedOwn) Validate() error {
	if s.Note == "" {
		return swill.Invalid("note", "is missing")
	}
	return s.stamp.Validate()
}

// TestValidateEmbedded runs an embedded struct's method once: promoted
// to the outer type, or called by the outer type's own method.
func TestValidateEmbedded(t *testing.T) {
	rv := validate.New()
	stampCalls.Store(0)
	var vs swill.Violations
	require.ErrorAs(t, rv.Validate(&stamped{}), &vs)
	assert.Equal(t, map[string]any{"by": wantDescs("is missing")}, vs.Data())
	assert.Equal(t, int32(1), stampCalls.Load())

	stampCalls.Store(0)
	require.ErrorAs(t, rv.Validate(&stampedOwn{Note: "x"}), &vs)
	assert.Equal(t, map[string]any{"by": wantDescs("is missing")}, vs.Data())
	assert.Equal(t, int32(1), stampCalls.Load())
	require.ErrorAs(t, rv.Validate(&[]stampedOwn{{stamp: stamp{By: "me"}}}), &vs)
	assert.Equal(t, map[string]any{"": wantNested("index", 0, wantNested("field", "note", wantDescs("is missing")))}, vs.Data())
	assert.Equal(t, []any{0, "note"}, vs[0].Path)
}

// TestDefaultMessages checks the wording of the default messages for
// each kind of value.
func TestDefaultMessages(t *testing.T) {
	type sample struct {
		S    string         `validate:"omitempty,gt=3"`
		S2   string         `validate:"omitempty,lt=2"`
		S3   string         `validate:"omitempty,lte=1"`
		L    []int          `validate:"omitempty,gte=2"`
		M    map[string]int `validate:"omitempty,max=1"`
		I    int            `validate:"omitempty,min=10"`
		F    float64        `validate:"omitempty,max=1.5"`
		D    time.Duration  `validate:"omitempty,min=1h"`
		T    time.Time      `validate:"omitempty,gt"`
		Or   string         `validate:"omitempty,email|url"`
		U    string         `validate:"omitempty,uuid"`
		E    int            `validate:"omitempty,eq=3"`
		Ne   int            `validate:"omitempty,ne=3"`
		Odd  string         `validate:"omitempty,hostname_port"`
		Pref string         `validate:"omitempty,excludes=x"`
	}
	cases := []struct {
		field string
		in    sample
		want  string
	}{
		{"S", sample{S: "abc"}, "length less than or equal to 3"},
		{"S2", sample{S2: "ab"}, "length greater than or equal to 2"},
		{"S3", sample{S3: "ab"}, "length greater than 1"},
		{"L", sample{L: []int{1}}, "length less than 2"},
		{"M", sample{M: map[string]int{"a": 1, "b": 2}}, "length greater than 1"},
		{"I", sample{I: 3}, "less than 10"},
		{"F", sample{F: 2}, "greater than 1.5"},
		{"D", sample{D: time.Minute}, "less than 1h"},
		{"T", sample{T: time.Now().Add(-time.Hour)}, "must be after the current time"},
		{"Or", sample{Or: "neither"}, "must be a valid email address or must be a valid URL"},
		{"U", sample{U: "nope"}, "must be a valid UUID"},
		{"E", sample{E: 4}, "must be equal to 3"},
		{"Ne", sample{Ne: 3}, "must not be equal to 3"},
		{"Odd", sample{Odd: "::"}, "must be a valid host:port"},
		{"Pref", sample{Pref: "xyz"}, "must not contain x"},
	}
	rv := validate.New()
	for _, tc := range cases {
		t.Run(tc.field, func(t *testing.T) {
			err := rv.Validate(&tc.in)
			var vs swill.Violations
			require.ErrorAs(t, err, &vs)
			require.Len(t, vs, 1)
			assert.Equal(t, []any{tc.field}, vs[0].Path)
			assert.Equal(t, tc.want, vs[0].Description)
		})
	}

	t.Run("unknown tag", func(t *testing.T) {
		v := validator.New()
		require.NoError(t, v.RegisterValidation("never", func(validator.FieldLevel) bool { return false }))
		require.NoError(t, v.RegisterValidation("nope", func(validator.FieldLevel) bool { return false }))
		type x struct {
			A int `validate:"never"`
			B int `validate:"nope=3"`
		}
		err := validate.New(validate.WithEngine(v)).Validate(&x{})
		var vs swill.Violations
		require.ErrorAs(t, err, &vs)
		assert.Equal(t, `fails the "never" check`, vs[0].Description)
		assert.Equal(t, `fails the "nope=3" check`, vs[1].Description)
	})
}

// TestViolationsLayout builds the wire layout from hand-made violations.
func TestViolationsLayout(t *testing.T) {
	vs := swill.Violations{
		{Path: []any{"a", 2, "b"}, Description: "one"},
		{Path: []any{"a", 2, "b"}, Description: "two"},
		{Path: []any{"a", 0}, Description: "three"},
		{Path: []any{"m", swill.MapKey{Key: "k"}}, Description: "four"},
		{Path: nil, Description: "whole"},
		{Path: []any{3}, Description: "top index"},
	}
	assert.Equal(t, map[string]any{
		"a": []any{
			map[string]any{"index": 2, "errors": wantNested("field", "b", wantDescs("one", "two"))},
			map[string]any{"index": 0, "errors": wantDescs("three")},
		},
		"m": wantNested("key", "k", wantDescs("four")),
		"":  []any{map[string]any{"description": "whole"}, map[string]any{"index": 3, "errors": wantDescs("top index")}},
	}, vs.Data())
	assert.Nil(t, swill.Violations(nil).Err())
	assert.Equal(t, "validation failed", swill.Violations{}.Error())
	assert.True(t, strings.HasPrefix(vs.Error(), "validation failed: a[2].b: one; a[2].b: two; a[0]: three; m[k]: four; whole; [3]: top index"))
	assert.Equal(t, "to: must follow from", swill.Invalid("to", "must follow from").Error())
	assert.Equal(t, reflect.TypeFor[swill.Violations](), reflect.TypeOf(vs.Err()))
}

// TestValidationOutcome lets an AfterRequest hook reach the violations
// behind the 422.
func TestValidationOutcome(t *testing.T) {
	outcomes := make(chan error, 1)
	srv := validationServer(t, swill.WithHooks(swill.Hooks{
		AfterRequest: func(ctx context.Context, call *swill.Call, out swill.Outcome) { outcomes <- out.Err },
	}))
	c := swilltest.Dial(t, srv.URL)
	o := validOrder()
	o.Age = 1
	c.Send(requestFrame(t, 1, "order", wire.TypeMessage, o))
	c.Recv(5 * time.Second)
	err := <-outcomes
	assert.Equal(t, rpc.CodeValidation, rpc.CodeOf(err))
	var vs swill.Violations
	require.ErrorAs(t, err, &vs)
	require.Len(t, vs, 1)
	assert.Equal(t, []any{"age"}, vs[0].Path)
	assert.Equal(t, "gte", vs[0].Tag)
	assert.Equal(t, "13", vs[0].Param)
}

// BenchmarkValidate measures the default validator on the requests every
// call pays for.
func BenchmarkValidate(b *testing.B) {
	rv := validate.New()
	type signup struct {
		Name  string `msgpack:"name" validate:"required,min=2"`
		Email string `msgpack:"email" validate:"required,email"`
		Age   int    `msgpack:"age" validate:"required,gte=13"`
	}
	bench := func(name string, v any, wantErr bool) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := rv.Validate(v); (err != nil) != wantErr {
					b.Fatal(err)
				}
			}
		})
	}
	bench("tuple", &[2]int{1, 2}, false)
	bench("any", new(any), false)
	type plain struct {
		ID    int64    `msgpack:"id"`
		Name  string   `msgpack:"name"`
		Score float64  `msgpack:"score"`
		Tags  []string `msgpack:"tags"`
	}
	bench("struct without constraints", &plain{ID: 1, Name: "n", Tags: []string{"a"}}, false)
	bench("struct valid", &signup{Name: "Ada", Email: "ada@example.com", Age: 36}, false)
	bench("struct invalid", &signup{Name: "A", Email: "ada@example.com", Age: 5}, true)
	o := validOrder()
	bench("nested valid", &o, false)
}
