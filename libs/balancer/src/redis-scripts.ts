/**
 * Lua scripts of the Redis balancer. Each runs atomically inside Redis, which is what makes two
 * registry replicas agree. Keys derived inside a script (origin records named by a mapping) are
 * built from the key prefix passed in ARGV, so these scripts target a single Redis (or a
 * primary/replica pair), not Redis Cluster.
 *
 * Mapping values are the `StreamMappingDto` JSON; a value that does not decode counts as absent.
 */

/** Decodes a mapping value into its origin id, or '' when absent or corrupt. */
const DECODE_MAPPING = `
local function mapped_origin(raw)
  if not raw then return '' end
  local ok, m = pcall(cjson.decode, raw)
  if ok and type(m) == 'table' and type(m.origin_id) == 'string' then return m.origin_id end
  return ''
end
`;

/**
 * Sticky read. KEYS: stream mapping, per-stream failure ZSET. ARGV: stream TTL ms, origin key
 * prefix. Returns {} when unmapped, else {origin id, origin JSON or '', failure-until or ''},
 * refreshing the mapping's TTL (it is in use).
 */
export const READ_MAPPING = `${DECODE_MAPPING}
local id = mapped_origin(redis.call('GET', KEYS[1]))
if id == '' then return {} end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local rec = redis.call('GET', ARGV[2] .. id) or ''
local failed = redis.call('ZSCORE', KEYS[2], id) or ''
return {id, rec, failed}
`;

/**
 * Compare-and-set of a mapping. KEYS: stream mapping. ARGV: expected origin id ('' = unmapped),
 * new mapping JSON, stream TTL ms. Returns 1 when stored; 0 when another replica got there first
 * (the caller re-reads and adopts the winner's origin).
 */
export const CAS_MAPPING = `${DECODE_MAPPING}
if mapped_origin(redis.call('GET', KEYS[1])) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
`;

/**
 * Failure report. KEYS: stream mapping, penalties ZSET, per-stream failure ZSET. ARGV: origin id,
 * penalty-until ms, penalty ms, now ms, max penalty entries. Penalises the origin, remembers the
 * failure for this stream, and drops the mapping only if it still points at that origin.
 */
export const REPORT_FAILURE = `${DECODE_MAPPING}
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
if redis.call('ZCARD', KEYS[2]) > tonumber(ARGV[5]) then redis.call('ZPOPMIN', KEYS[2]) end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
if mapped_origin(redis.call('GET', KEYS[1])) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

/**
 * HLS load-or-store: one session per stream. KEYS: hls:<url>, spbhid:<candidate>. ARGV: candidate
 * JSON, TTL ms, spbhid key prefix. An existing live session is refreshed (both keys) and
 * returned; otherwise the candidate is stored under both keys.
 */
export const HLS_LOAD_OR_STORE = `
local raw = redis.call('GET', KEYS[1])
if raw then
  local ok, s = pcall(cjson.decode, raw)
  if ok and type(s) == 'table' and type(s.spbhid) == 'string' then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    redis.call('SET', ARGV[3] .. s.spbhid, raw, 'PX', ARGV[2])
    return raw
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
`;

/**
 * HLS segment lookup. KEYS: spbhid:<id>. ARGV: TTL ms, hls key prefix. Refreshes the id and its
 * stream's session (a segment request keeps the session alive), restoring the stream entry if it
 * lapsed so the stream keeps one session.
 */
export const HLS_LOAD_BY_ID = `
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local ok, s = pcall(cjson.decode, raw)
if ok and type(s) == 'table' and type(s.stream_url) == 'string' then
  local k = ARGV[2] .. s.stream_url
  local cur = redis.call('GET', k)
  if not cur then
    redis.call('SET', k, raw, 'PX', ARGV[1])
  elseif cur == raw then
    redis.call('PEXPIRE', k, ARGV[1])
  end
end
return raw
`;

/**
 * Origin expiry. KEYS: origins ZSET. ARGV: cutoff score (inclusive), batch size, origin key prefix.
 * Removes up to a batch of origins whose last heartbeat is at or before the cutoff and returns
 * {id, last record JSON or '', score} triples. Atomic, so with several registry replicas each
 * expired origin is reported exactly once.
 */
export const SWEEP_ORIGINS = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for i = 1, #ids, 2 do
  local id = ids[i]
  local k = ARGV[3] .. id
  out[#out + 1] = id
  out[#out + 1] = redis.call('GET', k) or ''
  out[#out + 1] = ids[i + 1]
  redis.call('ZREM', KEYS[1], id)
  redis.call('DEL', k)
end
return out
`;
