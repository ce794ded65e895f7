/**
 * Lua scripts of the Redis balancer. Each runs atomically inside Redis, which is what makes two
 * registry replicas agree. Keys derived inside a script (origin records named by a mapping) are
 * built from the key prefix passed in ARGV, so these scripts target a single Redis (or a
 * primary/replica pair), not Redis Cluster.
 *
 * Mapping values are the `StreamMappingDto` JSON; a value that does not decode counts as absent.
 */

/**
 * Protocol index: each origin is also scored in `origins:m:<mask>`, the mask being the OR of the
 * bits of the endpoint kinds it exposes (PROTOCOL_BITS in redis-balancer.ts), so a first pick for
 * one protocol draws from the masks that include its bit without reading any origin record.
 */
export const PROTOCOL_MASKS = 32;

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
 * Origin expiry. KEYS: origins ZSET. ARGV: cutoff score (inclusive), batch size, origin key prefix,
 * protocol index key prefix. Removes up to a batch of origins whose last heartbeat is at or before
 * the cutoff and returns {id, last record JSON or '', score} triples, and trims every protocol
 * index ZSET to the same window (this also drops entries an origin left behind when its endpoint
 * set changed). Atomic, so with several registry replicas each expired origin is reported exactly
 * once.
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
for m = 0, ${PROTOCOL_MASKS - 1} do
  redis.call('ZREMRANGEBYSCORE', ARGV[4] .. m, '-inf', ARGV[1])
end
return out
`;

/**
 * Heartbeat. KEYS: origin:<id>, origins ZSET, protocol index ZSET of the origin's mask
 * (`origins:m:<mask>`). ARGV: record JSON, record TTL ms, updated_at, origin id. Writes the record,
 * scores the origin in both ZSETs with the same updated_at (a pick trusts an index entry only when
 * its score equals the origins ZSET score, so entries left in another mask's ZSET after the
 * endpoint set changed are ignored), and gives the index ZSET the record's TTL (an index nobody
 * heartbeats into holds only dead entries). Returns {1 if the origin was new else 0, origin count
 * when new else 0}: only a new origin can push the count past the cap. A refresh is five commands
 * (with the EVALSHA), O(log n), whatever the fleet size.
 */
export const UPDATE_ORIGIN = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local added = redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
if added == 1 then return {1, redis.call('ZCARD', KEYS[2])} end
return {0, 0}
`;

/**
 * Sticky pick in one round trip: read the mapping, or place the stream and store the mapping
 * atomically.
 *
 * KEYS: stream mapping, per-stream failure ZSET, origins ZSET, penalties ZSET.
 * ARGV: [1] now ms, [2] origin TTL ms (alive = score > now - TTL), [3] stream TTL ms, [4] key
 * prefix, [5] protocol bit (0 = any protocol), [6] expected origin id ('' = unmapped), [7] mapping
 * DTO version, [8] probes n, [9] random seed (the caller's random source, so tests can fix it),
 * then the avoided origin ids.
 *
 * - Mapped to an origin other than the expected one: refreshes the mapping's TTL and returns
 *   {'mapped', id, origin JSON or '', failed-for-stream-until or ''}; the caller judges it
 *   (mappingVerdict) and calls again with that id as expected to replace it.
 * - Unmapped, or still mapped to the expected id: chooses an origin and stores the mapping in the
 *   same atomic step (what makes replicas agree), returning {'fresh', id, origin JSON}; or
 *   {'none', alive origins in the origins ZSET} when the index has no eligible origin.
 *
 * Choice, uniform like selectOrigin: candidates are the alive members of the protocol index
 * ZSETs (the origins ZSET when any protocol will do). Up to n probes each take a uniformly random
 * alive entry by rank (O(log n)) and accept it when it is current (same score as in the origins
 * ZSET), not avoided, not penalised, not failed for this stream and its record exists. If every
 * probe is rejected, all alive entries are scanned (O(alive); only when many origins are
 * penalised or avoided) and one more draw picks among the healthy ones, else among the penalised
 * ones. Rejection sampling followed by an exact draw keeps the choice uniform. Draws come from
 * Redis's PRNG seeded with ARGV[9].
 */
export const PICK = `${DECODE_MAPPING}
local now = tonumber(ARGV[1])
local cutoff = now - tonumber(ARGV[2])
local prefix = ARGV[4]
local cur = mapped_origin(redis.call('GET', KEYS[1]))
if cur ~= '' and cur ~= ARGV[6] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'mapped', cur, redis.call('GET', prefix .. 'origin:' .. cur) or '', redis.call('ZSCORE', KEYS[2], cur) or ''}
end
local proto = tonumber(ARGV[5])
local probes = tonumber(ARGV[8])
local avoid = {}
for i = 10, #ARGV do avoid[ARGV[i]] = true end
local sets = {}
if proto == 0 then
  sets[1] = KEYS[3]
else
  for m = 1, ${PROTOCOL_MASKS - 1} do
    if bit.band(m, proto) ~= 0 then sets[#sets + 1] = prefix .. 'origins:m:' .. m end
  end
end
local used, dead, live, total = {}, {}, {}, 0
for _, s in ipairs(sets) do
  local card = redis.call('ZCARD', s)
  if card > 0 then
    local d = redis.call('ZCOUNT', s, '-inf', cutoff)
    if card > d then
      used[#used + 1] = s
      dead[#used] = d
      live[#used] = card - d
      total = total + card - d
    end
  end
end
local stale = {}
-- 'healthy', 'penalised', or nil when the entry is not a candidate.
local function state(set, id, score)
  if avoid[id] then return nil end
  if set ~= KEYS[3] and redis.call('ZSCORE', KEYS[3], id) ~= score then
    stale[#stale + 1] = {set, id}
    return nil
  end
  local p = redis.call('ZSCORE', KEYS[4], id)
  if p and tonumber(p) > now then return 'penalised' end
  local f = redis.call('ZSCORE', KEYS[2], id)
  if f and tonumber(f) > now then return 'penalised' end
  return 'healthy'
end
local chosen, rec
if total > 0 then
  math.randomseed(tonumber(ARGV[9]))
  for i = 1, probes do
    local k = math.floor(math.random() * total)
    if k >= total then k = total - 1 end
    for j = 1, #used do
      if k < live[j] then
        local e = redis.call('ZRANGE', used[j], dead[j] + k, dead[j] + k, 'WITHSCORES')
        if e[1] and state(used[j], e[1], e[2]) == 'healthy' then
          rec = redis.call('GET', prefix .. 'origin:' .. e[1])
          if rec then chosen = e[1] end
        end
        break
      end
      k = k - live[j]
    end
    if chosen then break end
  end
  if not chosen then
    local healthy, eligible, seen = {}, {}, {}
    for j = 1, #used do
      local e = redis.call('ZRANGE', used[j], '(' .. cutoff, '+inf', 'BYSCORE', 'WITHSCORES')
      for x = 1, #e, 2 do
        local id = e[x]
        if not seen[id] then
          local st = state(used[j], id, e[x + 1])
          if st then
            seen[id] = true
            eligible[#eligible + 1] = id
            if st == 'healthy' then healthy[#healthy + 1] = id end
          end
        end
      end
    end
    local r = math.random()
    for _, pool in ipairs({healthy, eligible}) do
      while not chosen and #pool > 0 do
        local k = math.floor(r * #pool) + 1
        if k > #pool then k = #pool end
        rec = redis.call('GET', prefix .. 'origin:' .. pool[k])
        if rec then chosen = pool[k] else table.remove(pool, k) end
      end
      if chosen then break end
    end
  end
end
for _, s in ipairs(stale) do redis.call('ZREM', s[1], s[2]) end
if not chosen then
  return {'none', redis.call('ZCOUNT', KEYS[3], '(' .. cutoff, '+inf')}
end
redis.call('SET', KEYS[1], '{"v":' .. ARGV[7] .. ',"origin_id":' .. cjson.encode(chosen) .. '}', 'PX', ARGV[3])
return {'fresh', chosen, rec}
`;
