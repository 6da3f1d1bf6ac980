package suite

import (
	"slices"
	"testing"
)

func TestMeasuringArgs(t *testing.T) {
	got := measuringArgs([]string{"-runs", "2", "-json", "out.json", "--md=x.md", "-quick", "-svg", "-", "-peers=swill"})
	want := []string{"-runs", "2", "-quick", "-peers=swill"}
	if !slices.Equal(got, want) {
		t.Errorf("measuringArgs = %q, want %q", got, want)
	}
}
