package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/swillorg/swill-go/internal/swilltest"
)

func TestRun(t *testing.T) {
	srv := swilltest.StartDemo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out strings.Builder
	if err := run(ctx, srv.URL, &out); err != nil {
		t.Fatal(err)
	}
	want := `add(1, 2) = 3
countdown(3): 3 2 1; trailer map[total:3]
sum(1, 2, 3, 4) = 10
echo: hello
echo: world
metadata: user = ada header map[hello:world] trailer map[bye:world]
fail: 418 I'm a teapot
signup: 422 Validation Error map[age:[map[description:less than 13]] name:[map[description:length less than 2]]]
signup: {ID:u1 Name:Ada}
sleep(5000) with a 50ms deadline: context deadline exceeded
`
	if got := out.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}
