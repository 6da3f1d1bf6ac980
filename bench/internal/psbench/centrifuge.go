package psbench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/centrifugal/centrifuge"
	"github.com/centrifugal/protocol"
	"github.com/coder/websocket"
	"github.com/vmihailenco/msgpack/v5"
)

func init() {
	register(Peer{
		Name:        "centrifuge",
		Description: "centrifugal/centrifuge node (memory broker, or its Redis broker), its WebSocket handler; raw WebSocket subscribers of its Protobuf protocol",
		Order:       20,
		NewServer:   newCentrifugeServer,
		Subscribe:   centrifugeSubscribe,
	})
}

type centrifugeServer struct {
	node *centrifuge.Node
	hs   *http.Server
	done chan struct{}
}

func newCentrifugeServer(redisAddr string) (Server, error) {
	node, err := centrifuge.New(centrifuge.Config{})
	if err != nil {
		return nil, err
	}
	node.OnConnecting(func(context.Context, centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
		return centrifuge.ConnectReply{Credentials: &centrifuge.Credentials{UserID: "bench"}}, nil
	})
	node.OnConnect(func(c *centrifuge.Client) {
		c.OnSubscribe(func(_ centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
			cb(centrifuge.SubscribeReply{}, nil)
		})
	})
	if redisAddr != "" {
		shard, err := centrifuge.NewRedisShard(node, centrifuge.RedisShardConfig{Address: redisAddr})
		if err != nil {
			return nil, err
		}
		broker, err := centrifuge.NewRedisBroker(node, centrifuge.RedisBrokerConfig{Shards: []*centrifuge.RedisShard{shard}})
		if err != nil {
			return nil, err
		}
		node.SetBroker(broker)
	}
	if err := node.Run(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/connection/websocket", centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{}))
	return &centrifugeServer{
		node: node,
		hs:   &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan struct{}),
	}, nil
}

func (s *centrifugeServer) Serve(ln net.Listener) error {
	if err := s.hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-s.done
	return nil
}

// Publish encodes m once as MsgPack, as swill-go's hub does, and
// publishes those bytes.
func (s *centrifugeServer) Publish(_ context.Context, m *Msg) error {
	data, err := msgpack.Marshal(m)
	if err != nil {
		return err
	}
	_, err = s.node.Publish(Channel, data)
	return err
}

func (s *centrifugeServer) Close() error {
	defer close(s.done)
	s.hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.node.Shutdown(ctx)
}

var centrifugeCommands = protocol.NewProtobufCommandEncoder()

type centrifugeSub struct {
	c       *websocket.Conn
	buf     bytes.Buffer
	dec     *protocol.ProtobufReplyDecoder
	pending bool // the decoder holds replies not yet read
	rd      bytes.Reader
	md      *msgpack.Decoder
}

// centrifugeSubscribe speaks centrifuge's Protobuf protocol: a connect
// command, then a subscribe command, each answered before the next.
func centrifugeSubscribe(ctx context.Context, addr string) (Subscriber, error) {
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/connection/websocket", &websocket.DialOptions{Subprotocols: []string{"centrifuge-protobuf"}})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	s := &centrifugeSub{c: c, dec: protocol.NewProtobufReplyDecoder(nil), md: msgpack.NewDecoder(nil)}
	fail := func(err error) (Subscriber, error) {
		c.CloseNow()
		return nil, err
	}
	if err := s.command(ctx, &protocol.Command{Id: 1, Connect: &protocol.ConnectRequest{}}); err != nil {
		return fail(fmt.Errorf("centrifuge: connecting: %w", err))
	}
	if err := s.command(ctx, &protocol.Command{Id: 2, Subscribe: &protocol.SubscribeRequest{Channel: Channel}}); err != nil {
		return fail(fmt.Errorf("centrifuge: subscribing: %w", err))
	}
	return s, nil
}

// command sends cmd and waits for its reply, answering pings meanwhile.
func (s *centrifugeSub) command(ctx context.Context, cmd *protocol.Command) error {
	if err := s.send(ctx, cmd); err != nil {
		return err
	}
	for {
		r, err := s.reply(ctx)
		if err != nil {
			return err
		}
		if r.Id != cmd.Id {
			continue
		}
		if r.Error != nil {
			return fmt.Errorf("error %d: %s", r.Error.Code, r.Error.Message)
		}
		return nil
	}
}

func (s *centrifugeSub) send(ctx context.Context, cmd *protocol.Command) error {
	b, err := centrifugeCommands.Encode(cmd)
	if err != nil {
		return err
	}
	return s.c.Write(ctx, websocket.MessageBinary, b)
}

// reply returns the next reply that is not a ping; it answers pings with
// the empty command, a pong.
func (s *centrifugeSub) reply(ctx context.Context) (*protocol.Reply, error) {
	for {
		if s.pending {
			r, err := s.dec.Decode()
			if err == nil {
				if r.Id == 0 && r.Push == nil && r.Error == nil {
					if err := s.send(ctx, &protocol.Command{}); err != nil {
						return nil, err
					}
					continue
				}
				return r, nil
			}
			if !errors.Is(err, io.EOF) {
				return nil, err
			}
			s.pending = false
		}
		_, rd, err := s.c.Reader(ctx)
		if err != nil {
			return nil, err
		}
		s.buf.Reset()
		if _, err := s.buf.ReadFrom(rd); err != nil {
			return nil, err
		}
		s.dec.Reset(s.buf.Bytes())
		s.pending = true
	}
}

func (s *centrifugeSub) Next(ctx context.Context, m *Msg) error {
	for {
		r, err := s.reply(ctx)
		if err != nil {
			return err
		}
		p := r.Push
		if p == nil {
			continue
		}
		if p.Pub != nil {
			*m = Msg{}
			s.rd.Reset(p.Pub.Data)
			s.md.Reset(&s.rd)
			return s.md.Decode(m)
		}
		if p.Disconnect != nil || p.Unsubscribe != nil {
			return fmt.Errorf("centrifuge: subscription ended: %v", p)
		}
	}
}

func (s *centrifugeSub) Close() error { return s.c.CloseNow() }
