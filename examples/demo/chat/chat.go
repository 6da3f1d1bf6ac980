// Package chat is the demo's chat: one pub/sub channel per room, with
// history shown on joining and a presence list, served as a page of its
// own next to the demo's calls.
package chat

import (
	"context"
	"embed"
	"io/fs"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

// Message is one chat message, the type of every room's channel.
type Message struct {
	User string    `msgpack:"user"`
	Text string    `msgpack:"text"`
	Time time.Time `msgpack:"time"`
}

// SendRequest is the request of chat.send.
type SendRequest struct {
	Room string `msgpack:"room" validate:"required,max=64"`
	Text string `msgpack:"text" validate:"required,max=500"`
}

// UserKey is the request metadata key naming the user, on chat.send and
// on the subscription to a room.
const UserKey = "user"

// Rooms are the channels of the chat: "room.<name>".
const Rooms = "room.*"

// NewHub returns the chat's hub on engine (nil: in-process). Clients
// subscribe to rooms and read their history and presence; they send
// messages through chat.send, which stamps them with the user and the
// time, rather than publishing themselves.
func NewHub(engine pubsub.Engine) (*pubsub.Hub, error) {
	opts := []pubsub.Option{
		pubsub.WithChannels(pubsub.Channel[Message](Rooms,
			pubsub.WithHistory(50, 24*time.Hour),
			pubsub.WithJoinLeave(),
			pubsub.ChannelDoc("A chat room: room.<name>. Send with chat.send."))),
		pubsub.WithHooks(pubsub.Hooks{OnSubscribe: func(ctx context.Context, ev *pubsub.SubscribeEvent) error {
			user, err := userOf(ev.Call)
			if err != nil {
				return err
			}
			ev.User = user
			return nil
		}}),
	}
	if engine != nil {
		opts = append(opts, pubsub.WithEngine(engine))
	}
	return pubsub.New(opts...)
}

// Register mounts hub on srv and registers chat.send.
func Register(srv *swill.Server, hub *pubsub.Hub) error {
	if err := srv.Mount(hub); err != nil {
		return err
	}
	return srv.Register(swill.Unary("chat.send", func(ctx context.Context, req SendRequest) (rpc.Position, error) {
		user, err := userOf(swill.CallFromContext(ctx))
		if err != nil {
			return rpc.Position{}, err
		}
		if !validRoom(req.Room) {
			return rpc.Position{}, rpc.NewError(rpc.CodeBadRequest, "a room name is letters, digits, - and _")
		}
		return hub.Publish(ctx, "room."+req.Room, Message{User: user, Text: req.Text, Time: time.Now().UTC().Truncate(time.Millisecond)})
	}, swill.WithDoc("Sends a message to a chat room, as the user named by the request metadata \"user\"."),
		swill.WithErrors(rpc.CodeBadRequest, rpc.CodeUnauthorized)))
}

func userOf(call *swill.Call) (string, error) {
	user := strings.TrimSpace(call.Metadata().String(UserKey))
	if user == "" || utf8.RuneCountInString(user) > 32 {
		return "", rpc.NewError(rpc.CodeUnauthorized, "say who you are: request metadata \"user\", 1 to 32 characters")
	}
	return user, nil
}

func validRoom(room string) bool {
	if room == "" || len(room) > 64 {
		return false
	}
	for _, r := range room {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

//go:embed assets
var assets embed.FS

// Handler serves the chat page and its script; mount it under a path
// ending in "/" (the demo uses /chat/). The page connects to ../ws.
func Handler() http.Handler {
	sub, _ := fs.Sub(assets, "assets")
	return http.FileServerFS(sub)
}
