package redisengine

import "github.com/redis/go-redis/v9"

// publishScript keeps a publication in its channel's history and
// publishes it, in one step.
//
// KEYS: the channel's meta hash and stream. ARGV: the Redis channel, the
// data, the history size, the history TTL in milliseconds (0: none), an
// epoch for a channel that has none, and the message kind ('d').
// Returns {offset, epoch}.
var publishScript = redis.NewScript(`
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[5]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch, 'o', 0)
end
local offset = redis.call('HINCRBY', KEYS[1], 'o', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[3], string.format('%d-0', offset), 'd', ARGV[2])
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
redis.call('PUBLISH', ARGV[1], ARGV[6] .. string.format('%d', offset) .. ':' .. epoch .. ':' .. ARGV[2])
return {offset, epoch}
`)

// historyScript reads a channel's position and kept publications.
//
// KEYS: the channel's meta hash and stream. ARGV: the offset to read
// after (-1: the latest ones), the limit (-1: all), '1' to give a channel
// without an epoch one, the history TTL in milliseconds, and that epoch.
// Returns {offset, epoch, entries, newest first ('1' or '0')}, entries as
// XRANGE gives them.
var historyScript = redis.NewScript(historySrc)

const historySrc = `
local epoch = redis.call('HGET', KEYS[1], 'e')
local offset = 0
if epoch then
  offset = tonumber(redis.call('HGET', KEYS[1], 'o') or '0')
elseif ARGV[3] == '1' then
  epoch = ARGV[5]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch, 'o', 0)
  local ttl = tonumber(ARGV[4])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
else
  epoch = ''
end
local since, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local entries, reversed = {}, '0'
if limit ~= 0 and offset > 0 then
  if since >= 0 then
    local from = string.format('%d-0', since + 1)
    if limit < 0 then
      entries = redis.call('XRANGE', KEYS[2], from, '+')
    else
      entries = redis.call('XRANGE', KEYS[2], from, '+', 'COUNT', limit)
    end
  elseif limit < 0 then
    entries = redis.call('XRANGE', KEYS[2], '-', '+')
  else
    entries, reversed = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', limit), '1'
  end
end
return {offset, epoch, entries, reversed}
`

// addPresenceScript records a subscriber until Redis's clock passes its
// expiry, and keeps the keys as long as their longest-lived entry.
//
// KEYS: the channel's presence hash and sorted set. ARGV: the client id,
// its info, the TTL in milliseconds.
var addPresenceScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
for _, k in ipairs(KEYS) do
  if redis.call('PTTL', k) < ttl then redis.call('PEXPIRE', k, ttl) end
end
return 1
`)

// removePresenceScript removes a subscriber. KEYS as addPresenceScript's;
// ARGV: the client id.
var removePresenceScript = redis.NewScript(`
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`)

// presenceScript drops the expired subscribers and returns the others as
// HGETALL does. KEYS as addPresenceScript's.
var presenceScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. now)
for i = 1, #gone, 500 do
  redis.call('HDEL', KEYS[1], unpack(gone, i, math.min(i + 499, #gone)))
end
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. now) end
return redis.call('HGETALL', KEYS[1])
`)
