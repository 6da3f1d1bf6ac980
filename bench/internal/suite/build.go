package suite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/swillorg/swill-go/bench/internal/peer"
)

// Binaries are the built server and client programs.
type Binaries struct {
	Server, Client string
}

// Skip says why a peer is not measured.
type Skip struct {
	Peer   string `json:"peer"`
	Reason string `json:"reason"`
}

// Optional is a peer whose code depends on a package that may be missing
// from the tree; it is compiled in only with its build tag.
type Optional struct {
	Peer    string
	Tag     string
	Package string
}

// Optionals are the peers built when their transport exists.
var Optionals = []Optional{
	{Peer: "swill-gobwas", Tag: "swill_gobwas", Package: "github.com/swillorg/swill-go/transport/gobwasws"},
	{Peer: "swill-epoll", Tag: "swill_epoll", Package: "github.com/swillorg/swill-go/transport/epoll"},
}

// ModuleDir returns the directory of the bench module, found from the
// working directory.
func ModuleDir(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "github.com/swillorg/swill-go/bench").Output()
	if err != nil {
		return "", fmt.Errorf("suite: locating the bench module (run from inside it): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Build compiles the server and client into dir with every optional peer
// whose package exists and compiles; the others are returned as skipped.
func Build(ctx context.Context, moduleDir, dir string) (Binaries, []Skip, error) {
	var tags []string
	var skips []Skip
	for _, o := range Optionals {
		if _, err := goCmd(ctx, moduleDir, "list", o.Package); err != nil {
			skips = append(skips, Skip{Peer: o.Peer, Reason: fmt.Sprintf("package %s is not in this tree", o.Package)})
			continue
		}
		if out, err := goCmd(ctx, moduleDir, "build", "-tags", o.Tag, "./internal/peer/..."); err != nil {
			skips = append(skips, Skip{Peer: o.Peer, Reason: fmt.Sprintf("the peer does not build against %s: %s", o.Package, firstLine(out))})
			continue
		}
		tags = append(tags, o.Tag)
	}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	args = append(args, "./cmd/benchserver", "./cmd/benchclient")
	if out, err := goCmd(ctx, moduleDir, args...); err != nil {
		return Binaries{}, nil, fmt.Errorf("suite: go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return Binaries{Server: filepath.Join(dir, "benchserver"), Client: filepath.Join(dir, "benchclient")}, skips, nil
}

func goCmd(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// listPeers asks a built program which peers it holds.
func listPeers(ctx context.Context, path string) ([]peer.Info, error) {
	out, err := exec.CommandContext(ctx, path, "-list").Output()
	if err != nil {
		return nil, fmt.Errorf("suite: %s -list: %w", path, err)
	}
	var infos []peer.Info
	if err := json.Unmarshal(out, &infos); err != nil {
		return nil, fmt.Errorf("suite: %s -list: %w", path, err)
	}
	return infos, nil
}
