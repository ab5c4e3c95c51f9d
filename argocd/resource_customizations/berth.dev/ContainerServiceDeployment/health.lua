-- Argo CD health check for berth.dev/ContainerServiceDeployment (Lua 5.1, as Argo CD runs it).
-- Reads the version's kstatus conditions Stalled / Reconciling / Ready, and status.state
-- (ACTIVATING, ACTIVE, INACTIVE, FAILED) for versions written before the conditions existed.
--   Healthy      ACTIVE (it serves), or INACTIVE (a newer version replaced it: nothing to fix)
--   Progressing  no status yet, an older generation observed, ACTIVATING, or waiting for its
--                ContainerService to exist (Reconciling=True, ServiceNotFound)
--   Degraded     FAILED (Stalled=True), with the version's message
local hs = {}

local function condition(status, kind)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local function is_true(c)
  return c ~= nil and c.status == "True"
end

local function result(health, message)
  hs.status = health
  hs.message = message
  return hs
end

local status = obj.status
if status == nil or (status.state == nil and status.conditions == nil) then
  return result("Progressing", "waiting for the Berth operator to number the version")
end

-- Versions written before observedGeneration existed have none: their state still holds.
local generation = obj.metadata.generation
local observed = status.observedGeneration
if generation ~= nil and observed ~= nil and observed < generation then
  local waiting = string.format("waiting for the Berth operator to observe generation %d", generation)
  return result("Progressing", waiting)
end

local name = obj.metadata.name
if status.version ~= nil then
  name = string.format("version %d", status.version)
end
local message = status.message
if message == "" then
  message = nil
end
local state = status.state
local stalled = condition(status, "Stalled")
local reconciling = condition(status, "Reconciling")
local ready = condition(status, "Ready")

-- The conditions decide; status.state speaks for versions written before there were any.
local phase = state
if is_true(stalled) then
  phase = "FAILED"
elseif is_true(reconciling) and reconciling.reason == "ServiceNotFound" then
  phase = "WAITING"
elseif is_true(reconciling) then
  phase = "ACTIVATING"
elseif is_true(ready) and state ~= "INACTIVE" then
  phase = "ACTIVE"
end

if phase == "FAILED" then
  local why = message or (stalled and stalled.message) or "no reason given"
  return result("Degraded", name .. " failed: " .. why)
end
if phase == "WAITING" then
  return result("Progressing", reconciling.message or "waiting for its ContainerService")
end
if phase == "ACTIVATING" then
  return result("Progressing", name .. " is activating")
end
if phase == "ACTIVE" then
  return result("Healthy", name .. " is active")
end
if phase == "INACTIVE" then
  local why = message or "a newer version replaced it"
  return result("Healthy", name .. " is inactive: " .. why)
end
return result("Progressing", name .. ": " .. (state or "waiting for the Berth operator"))
