// Package all registers every peer compiled into the program: import it
// for its side effect.
package all

import (
	_ "github.com/swillorg/swill-go/bench/internal/peer/grpcpeer"
	_ "github.com/swillorg/swill-go/bench/internal/peer/rawws"
	_ "github.com/swillorg/swill-go/bench/internal/peer/swillpeer"
)
