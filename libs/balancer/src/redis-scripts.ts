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
 * Stores a placement: the compare-and-set of a mapping, plus the per-origin stream counts that
 * `least-streams` reads. KEYS: stream mapping, `placed:<chosen>`. ARGV: [1] expected origin id
 * ('' = unmapped), [2] chosen origin id, [3] mapping JSON, [4] stream TTL ms, [5] now ms, [6] key
 * prefix, [7] stream URL.
 *
 * Returns {1, chosen origin record JSON} when stored; {0} when another replica changed the mapping
 * first (the caller re-reads and adopts it); {2} when the chosen origin's record is gone (expired
 * or evicted since the candidates were read: the caller chooses again). `placed:<id>` is a ZSET
 * stream URL → mapping expiry, so its live count follows the mappings' own TTLs; it is trimmed here
 * and expires with its newest mapping, which keeps it bounded by the origin's live mappings.
 */
export const PLACE = `${DECODE_MAPPING}
if mapped_origin(redis.call('GET', KEYS[1])) ~= ARGV[1] then return {0} end
local rec = redis.call('GET', ARGV[6] .. 'origin:' .. ARGV[2])
if not rec then return {2} end
local now = tonumber(ARGV[5])
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if ARGV[1] ~= '' then redis.call('ZREM', ARGV[6] .. 'placed:' .. ARGV[1], ARGV[7]) end
return {1, rec}
`;

/**
 * Failure report. KEYS: stream mapping, penalties ZSET, per-stream failure ZSET, `placed:<origin>`.
 * ARGV: origin id, penalty-until ms, penalty ms, now ms, max penalty entries, stream URL. Penalises
 * the origin, remembers the failure for this stream, and drops the mapping (and its count) only if
 * it still points at that origin.
 */
export const REPORT_FAILURE = `${DECODE_MAPPING}
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
if redis.call('ZCARD', KEYS[2]) > tonumber(ARGV[5]) then redis.call('ZPOPMIN', KEYS[2]) end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
if mapped_origin(redis.call('GET', KEYS[1])) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[4], ARGV[6])
end
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
 * (`origins:m:<mask>`), load:<id>. ARGV: record JSON, record TTL ms, updated_at, origin id, load
 * score ('' when the heartbeat had no usable summaries). Writes the record and its load score,
 * scores the origin in both ZSETs with the same updated_at (a pick trusts an index entry only when
 * its score equals the origins ZSET score, so entries left in another mask's ZSET after the
 * endpoint set changed are ignored), and gives the index ZSET the record's TTL (an index nobody
 * heartbeats into holds only dead entries). Returns {1 if the origin was new else 0, origin count
 * when new else 0}: only a new origin can push the count past the cap. A refresh is six commands
 * (with the EVALSHA), O(log n), whatever the fleet size. The load score is its own small key so a
 * pick reads it without decoding records.
 */
export const UPDATE_ORIGIN = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[4], ARGV[5], 'PX', ARGV[2])
local added = redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
if added == 1 then return {1, redis.call('ZCARD', KEYS[2])} end
return {0, 0}
`;

/**
 * First round trip of a pick: the sticky mapping, or the candidates for placing the stream. The
 * choice itself is made by the caller (placement.ts) and stored with PLACE.
 *
 * KEYS: stream mapping, per-stream failure ZSET, origins ZSET, penalties ZSET.
 * ARGV: [1] now ms, [2] origin TTL ms (alive = score > now - TTL), [3] stream TTL ms, [4] key
 * prefix, [5] protocol bit (0 = any protocol), [6] expected origin id ('' = unmapped), [7] sample
 * size n, [8] random start rank (the caller's random source, so tests can fix it), then the
 * avoided origin ids.
 *
 * - Mapped to an origin other than the expected one: refreshes the mapping's TTL and its entry in
 *   that origin's `placed:` ZSET and returns {'mapped', id, origin JSON or '',
 *   failed-for-stream-until or ''}; the caller judges it (mappingVerdict) and calls again with that
 *   id as expected to replace it.
 * - Unmapped, or still mapped to the expected id: returns {'choose', then per candidate: id,
 *   penalised 0/1, live streams on it, load score or ''}, or {'none'}.
 *
 * Candidates are the alive members of the protocol index ZSETs (the origins ZSET when any protocol
 * will do) that are current (same score as in the origins ZSET; stale entries left by an origin
 * whose endpoint set changed are removed), not avoided. With more than n alive entries, n
 * consecutive ranks from the random start (wrapping) are read: every origin is equally likely to be
 * among them and the work stays O(n log N) however large the fleet.
 */
export const PICK = `${DECODE_MAPPING}
local now = tonumber(ARGV[1])
local cutoff = now - tonumber(ARGV[2])
local prefix = ARGV[4]
local cur = mapped_origin(redis.call('GET', KEYS[1]))
if cur ~= '' and cur ~= ARGV[6] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  local pk = prefix .. 'placed:' .. cur
  redis.call('ZADD', pk, now + tonumber(ARGV[3]), string.sub(KEYS[1], #prefix + 8))
  redis.call('PEXPIRE', pk, ARGV[3])
  return {'mapped', cur, redis.call('GET', prefix .. 'origin:' .. cur) or '', redis.call('ZSCORE', KEYS[2], cur) or ''}
end
local proto = tonumber(ARGV[5])
local avoid = {}
for i = 9, #ARGV do avoid[ARGV[i]] = true end
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
-- Gather the window's entries, then judge them in batches: one ZMSCORE for currency, one read
-- each of the live penalties and of this stream's failures, one MGET of loads, and one ZCOUNT
-- per candidate (its live streams): O(n) commands, most of them O(log N).
local ids, from, scores = {}, {}, {}
if total > 0 then
  local take = math.min(total, tonumber(ARGV[7]))
  local pos = tonumber(ARGV[8]) % total
  while take > 0 do
    local j, k = 1, pos
    while k >= live[j] do
      k = k - live[j]
      j = j + 1
    end
    local n = math.min(take, live[j] - k)
    local e = redis.call('ZRANGE', used[j], dead[j] + k, dead[j] + k + n - 1, 'WITHSCORES')
    for x = 1, #e, 2 do
      if not avoid[e[x]] then
        ids[#ids + 1] = e[x]
        from[#ids] = used[j]
        scores[#ids] = e[x + 1]
      end
    end
    take = take - n
    pos = (pos + n) % total
  end
end
if #ids == 0 then return {'none'} end
local current = {}
if proto ~= 0 then current = redis.call('ZMSCORE', KEYS[3], unpack(ids)) end
local penalised = {}
for _, key in ipairs({KEYS[4], KEYS[2]}) do
  for _, id in ipairs(redis.call('ZRANGE', key, '(' .. now, '+inf', 'BYSCORE')) do penalised[id] = true end
end
local out, seen, loadKeys = {'choose'}, {}, {}
for i, id in ipairs(ids) do
  if proto ~= 0 and current[i] ~= scores[i] then
    -- Left in another mask's index when the origin's endpoint set changed: drop it.
    redis.call('ZREM', from[i], id)
  elseif not seen[id] then
    seen[id] = true
    out[#out + 1] = id
    out[#out + 1] = penalised[id] and 1 or 0
    out[#out + 1] = redis.call('ZCOUNT', prefix .. 'placed:' .. id, '(' .. now, '+inf')
    out[#out + 1] = ''
    loadKeys[#loadKeys + 1] = prefix .. 'load:' .. id
  end
end
if #loadKeys > 0 then
  local loads = redis.call('MGET', unpack(loadKeys))
  for i = 1, #loadKeys do out[1 + 4 * i] = loads[i] or '' end
end
if #out == 1 then return {'none'} end
return out
`;

/**
 * Placement leases: a batch of claims, each atomic (the whole batch is one script). KEYS: origins
 * ZSET. ARGV: [1] now ms, [2] origin TTL ms (alive = score > now - TTL), [3] stream TTL ms, [4] key
 * prefix, then per claim: stream URL, origin id, mapping JSON (used when the claim writes).
 *
 * Per claim, returns two entries: outcome and the replaced origin id ('' unless `conflict`).
 * - origin not alive in the origins ZSET, or its record gone: `unknown-origin`, nothing written;
 * - mapped to that origin: `refreshed` (mapping TTL and its `placed:` entry);
 * - unmapped (or a value that does not decode): `written`;
 * - mapped to another origin: `conflict`, overwritten, and the stream leaves the old origin's
 *   `placed:` count.
 */
export const ASSERT_PLACEMENTS = `${DECODE_MAPPING}
local now = tonumber(ARGV[1])
local cutoff = now - tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local prefix = ARGV[4]
local out = {}
for i = 5, #ARGV - 2, 3 do
  local url, id, json = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local score = redis.call('ZSCORE', KEYS[1], id)
  if not score or tonumber(score) <= cutoff or redis.call('EXISTS', prefix .. 'origin:' .. id) == 0 then
    out[#out + 1] = 'unknown-origin'
    out[#out + 1] = ''
  else
    local sk = prefix .. 'stream:' .. url
    local cur = mapped_origin(redis.call('GET', sk))
    if cur == id then
      redis.call('PEXPIRE', sk, ttl)
      out[#out + 1] = 'refreshed'
      out[#out + 1] = ''
    else
      redis.call('SET', sk, json, 'PX', ttl)
      if cur == '' then
        out[#out + 1] = 'written'
        out[#out + 1] = ''
      else
        redis.call('ZREM', prefix .. 'placed:' .. cur, url)
        out[#out + 1] = 'conflict'
        out[#out + 1] = cur
      end
    end
    local pk = prefix .. 'placed:' .. id
    redis.call('ZADD', pk, now + ttl, url)
    redis.call('ZREMRANGEBYSCORE', pk, '-inf', now)
    redis.call('PEXPIRE', pk, ttl)
  end
end
return out
`;

/**
 * Store epoch. KEYS: `epoch`. ARGV: a new random epoch. Returns the stored epoch, storing the new
 * one first when there is none (SET NX): a store that lost its state answers an epoch its users
 * have not seen.
 */
export const STORE_EPOCH = `
local cur = redis.call('GET', KEYS[1])
if cur then return cur end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`;
