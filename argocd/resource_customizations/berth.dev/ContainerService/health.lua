-- Argo CD health check for berth.dev/ContainerService (Lua 5.1, as Argo CD runs it).
-- Reads what the Berth operator writes: status.state (Lightsail's states), status.stateDetail,
-- the kstatus conditions Ready / Stalled / Reconciling, and status.observedGeneration.
--   Healthy      RUNNING or READY, Ready=True, the current generation observed
--   Progressing  not reconciled yet, an older generation observed, DEPLOYING / UPDATING /
--                PENDING / DELETING, or Reconciling=True
--   Degraded     Stalled=True (unknown power, the newest version FAILED) or UNKNOWN_ERROR
--   Suspended    spec.isDisabled: DISABLED, scaled to zero on purpose
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

local function detail(status, fallback)
  local d = status.stateDetail
  if d ~= nil and d.message ~= nil and d.message ~= "" then
    return d.message
  end
  return fallback
end

local function result(health, message)
  hs.status = health
  hs.message = message
  return hs
end

if obj.status == nil or obj.status.state == nil then
  local status = obj.status or {}
  -- The operator rejected the spec before it could give the service a state.
  if status.stateDetail ~= nil and status.stateDetail.code == "UNKNOWN_ERROR" then
    return result("Degraded", detail(status, "the operator reports an error"))
  end
  return result("Progressing", "waiting for the Berth operator to reconcile the service")
end

local status = obj.status
local generation = obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  return result("Progressing", string.format("waiting for the Berth operator to observe generation %d", generation))
end

local state = status.state
if state == "DISABLED" then
  return result("Suspended", detail(status, "disabled: scaled to zero"))
end
if state == "DELETING" then
  return result("Progressing", detail(status, "deleting"))
end

local stalled = condition(status, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  local message = stalled.message
  if message == nil or message == "" then
    message = detail(status, stalled.reason or "stalled")
  end
  return result("Degraded", message)
end
if status.stateDetail ~= nil and status.stateDetail.code == "UNKNOWN_ERROR" then
  return result("Degraded", detail(status, "the operator reports an error"))
end

local reconciling = condition(status, "Reconciling")
if (reconciling ~= nil and reconciling.status == "True")
    or state == "PENDING" or state == "DEPLOYING" or state == "UPDATING" then
  return result("Progressing", state .. ": " .. detail(status, "reconciling"))
end

local ready = condition(status, "Ready")
if ready ~= nil and ready.status == "True" and (state == "RUNNING" or state == "READY") then
  local message = state
  if status.currentDeployment ~= nil and status.currentDeployment.version ~= nil then
    message = string.format("%s: version %d is active", state, status.currentDeployment.version)
  elseif state == "READY" then
    message = message .. ": no deployment yet"
  end
  return result("Healthy", message)
end
if ready ~= nil and ready.status == "False" then
  return result("Degraded", ready.message or state)
end
return result("Progressing", state .. ": " .. detail(status, "waiting for the Ready condition"))
