package state

// luaPendingEvents is a Lua function shared by loadCmd and commitCmd: given
// an inbox record and the outbox key, it returns the flat list
// {eventID, outboxRecord, ...} of the record's events still in the outbox,
// in the order the command emitted them. One HGET per event keeps it free of
// unpack() stack limits; a command emits a handful of events.
const luaPendingEvents = `
local function pendingEvents(rec, outbox)
  local ids = cjson.decode(rec)['e']
  local out = {}
  if type(ids) ~= 'table' then
    return out
  end
  for _, id in ipairs(ids) do
    local e = redis.call('HGET', outbox, id)
    if e then
      out[#out + 1] = id
      out[#out + 1] = e
    end
  end
  return out
end
`
