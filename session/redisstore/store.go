package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swillorg/swill-go/session"
)

// Store is a [session.Store] on Redis. Make one with [New]; it is safe
// for concurrent use.
type Store struct {
	client redis.UniversalClient
	prefix string
}

// Option configures a [Store].
type Option func(*Store)

// WithPrefix sets the prefix of the session keys; default "swill:session:".
func WithPrefix(p string) Option { return func(s *Store) { s.prefix = p } }

// New returns a store on client, which it does not close.
func New(client redis.UniversalClient, opts ...Option) *Store {
	s := &Store{client: client, prefix: "swill:session:"}
	for _, o := range opts {
		o(s)
	}
	return s
}

// marker is the field that marks a session as existing: values have
// non-empty keys.
const marker = ""

var loadScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return redis.call('HGETALL', KEYS[1])
`)

// updateScript: ARGV = ttl, the number of values to set, then the keys and
// values to set, then the keys to delete.
var updateScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = tonumber(ARGV[2])
for i = 3, 2 + 2 * n, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
for i = 3 + 2 * n, #ARGV do
  if ARGV[i] ~= '' then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`)

func ms(d time.Duration) int64 { return max(d.Milliseconds(), 1) }

// Create implements [session.Store].
func (s *Store) Create(ctx context.Context, id string, ttl time.Duration) error {
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.prefix+id, marker, "1")
		p.PExpire(ctx, s.prefix+id, time.Duration(ms(ttl))*time.Millisecond)
		return nil
	})
	return err
}

// Load implements [session.Store].
func (s *Store) Load(ctx context.Context, id string, ttl time.Duration) (map[string][]byte, bool, error) {
	res, err := loadScript.Run(ctx, s.client, []string{s.prefix + id}, ms(ttl)).Slice()
	if err == redis.Nil {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	vals := make(map[string][]byte, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		k, _ := res[i].(string)
		v, _ := res[i+1].(string)
		if k != marker {
			vals[k] = []byte(v)
		}
	}
	return vals, true, nil
}

// Update implements [session.Store].
func (s *Store) Update(ctx context.Context, id string, set map[string][]byte, del []string, ttl time.Duration) error {
	args := make([]any, 0, 2+2*len(set)+len(del))
	args = append(args, ms(ttl), len(set))
	for k, v := range set {
		args = append(args, k, v)
	}
	for _, k := range del {
		args = append(args, k)
	}
	n, err := updateScript.Run(ctx, s.client, []string{s.prefix + id}, args...).Int()
	if err != nil {
		return err
	}
	if n == 0 {
		return session.ErrNotFound
	}
	return nil
}

// Delete implements [session.Store].
func (s *Store) Delete(ctx context.Context, id string) error {
	return s.client.Del(ctx, s.prefix+id).Err()
}

var _ session.Store = (*Store)(nil)
