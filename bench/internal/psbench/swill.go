package psbench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/pubsub/redisengine"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

func init() {
	register(Peer{
		Name:        "swill",
		Description: "swill-go server with a pubsub.Hub (in-process engine, or pubsub/redisengine), default transport; raw WebSocket subscribers of swill.subscribe",
		Order:       10,
		NewServer:   newSwillServer,
		Subscribe:   swillSubscribe,
	})
}

type swillServer struct {
	srv  *swill.Server
	hub  *pubsub.Hub
	rdb  *redis.Client
	hs   *http.Server
	done chan struct{}
}

func newSwillServer(redisAddr string) (Server, error) {
	var opts []pubsub.Option
	var rdb *redis.Client
	if redisAddr != "" {
		rdb = redis.NewClient(&redis.Options{Addr: redisAddr})
		opts = append(opts, pubsub.WithEngine(redisengine.New(rdb)))
	}
	hub, err := pubsub.New(opts...)
	if err != nil {
		return nil, err
	}
	srv := swill.NewServer()
	if err := srv.Mount(hub); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	return &swillServer{
		srv: srv, hub: hub, rdb: rdb,
		hs:   &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan struct{}),
	}, nil
}

func (s *swillServer) Serve(ln net.Listener) error {
	if err := s.hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-s.done
	return nil
}

func (s *swillServer) Publish(ctx context.Context, m *Msg) error {
	_, err := s.hub.Publish(ctx, Channel, m)
	return err
}

func (s *swillServer) Close() error {
	defer close(s.done)
	s.hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	err = errors.Join(err, s.hub.Close())
	if s.rdb != nil {
		err = errors.Join(err, s.rdb.Close())
	}
	return err
}

// swillFrame is a server frame, [seq, data, type, leading, trailing],
// whose data is a subscription item (or, for an ERROR frame, the error,
// whose fields the item leaves out).
type swillFrame struct {
	_msgpack struct{} `msgpack:",as_array"`
	Seq      int64
	Item     swillItem
	Type     int
	Leading  codec.None
	Trailing codec.None
}

type swillItem struct {
	Channel string `msgpack:"channel"`
	Data    Msg    `msgpack:"data"`
	Offset  uint64 `msgpack:"offset"`
	Code    int    `msgpack:"code"`
	Message string `msgpack:"message"`
}

// Server frame types.
const (
	swillMessage  = 0
	swillMetadata = 2
)

type swillSub struct {
	c   *websocket.Conn
	buf bytes.Buffer
	rd  bytes.Reader
	dec *msgpack.Decoder
	f   swillFrame
}

// swillSubscribe subscribes with the raw wire: a swill.subscribe request
// frame, then the METADATA frame the server always sends first.
func swillSubscribe(ctx context.Context, addr string) (Subscriber, error) {
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", &websocket.DialOptions{Subprotocols: []string{rpc.Subprotocol}})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	s := &swillSub{c: c, dec: msgpack.NewDecoder(nil)}
	req, err := codec.Marshal([]any{1, rpc.SubscribeRequest{Channel: Channel}, rpc.SubscribeRPC})
	if err != nil {
		c.CloseNow()
		return nil, err
	}
	if err := c.Write(ctx, websocket.MessageBinary, req); err != nil {
		c.CloseNow()
		return nil, err
	}
	if err := s.read(ctx); err != nil {
		c.CloseNow()
		return nil, err
	}
	if s.f.Type != swillMetadata {
		c.CloseNow()
		return nil, fmt.Errorf("swill: subscribing: frame of type %d (%d %s), want METADATA", s.f.Type, s.f.Item.Code, s.f.Item.Message)
	}
	return s, nil
}

func (s *swillSub) read(ctx context.Context) error {
	_, r, err := s.c.Reader(ctx)
	if err != nil {
		return err
	}
	s.buf.Reset()
	if _, err := s.buf.ReadFrom(r); err != nil {
		return err
	}
	s.rd.Reset(s.buf.Bytes())
	s.dec.Reset(&s.rd)
	s.f = swillFrame{}
	return s.dec.Decode(&s.f)
}

func (s *swillSub) Next(ctx context.Context, m *Msg) error {
	if err := s.read(ctx); err != nil {
		return err
	}
	if s.f.Type != swillMessage {
		return fmt.Errorf("swill: subscription ended: frame of type %d (%d %s)", s.f.Type, s.f.Item.Code, s.f.Item.Message)
	}
	*m = s.f.Item.Data
	return nil
}

func (s *swillSub) Close() error { return s.c.CloseNow() }
