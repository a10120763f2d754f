-- Approvals: answers `tandem/approval/request` through `vim.ui.select`, queued, never blocking.
--
-- `vim.lsp` runs a server request's handler in a coroutine, so the handler yields until the
-- user decides and the editor keeps running meanwhile. Requests wait in a queue and are asked
-- one at a time; dismissing the picker postpones a request instead of denying it.
local config = require('tandem.config')
local util = require('tandem.util')

local M = {}

---@class tandem.Approval
---@field client_id integer
---@field params table ApprovalRequestParams
---@field resume fun(decision: string)
---@field postponed boolean

---@type tandem.Approval[]
M.queue = {}

--- True while a picker is open, so only one is shown at a time.
local asking = false
--- True while we wait for Normal mode to ask.
local waiting_for_mode = false

local labels = {
  allow_once = 'Allow once',
  allow_session = 'Allow for this session',
  deny = 'Deny',
  cancel = 'Deny and stop the task',
}

local kinds = {
  command = 'run a command',
  escalation = 'run a command outside the sandbox',
  network = 'use the network',
  patch = 'change files',
  mcp_tool = 'call a tool',
}

--- The question, on as few lines as possible: what, where, why.
---@param p table ApprovalRequestParams
---@return string
function M.describe(p)
  local parts =
    { string.format('Tandem (%s) wants to %s', p.taskId or '?', kinds[p.kind] or p.kind) }
  if p.command and #p.command > 0 then
    local shown = {}
    for _, arg in ipairs(p.command) do
      table.insert(shown, arg:find('[%s\'"]') and vim.fn.shellescape(arg) or arg)
    end
    table.insert(parts, '  $ ' .. table.concat(shown, ' '))
  end
  if p.cwd then
    table.insert(parts, '  in ' .. util.short_path(p.cwd))
  end
  if p.changes and #p.changes > 0 then
    for _, c in ipairs(p.changes) do
      table.insert(
        parts,
        string.format('  %s %s', c.kind, util.short_path(util.uri_to_fname(c.uri)))
      )
    end
  end
  if p.reason and p.reason ~= '' then
    table.insert(parts, '  why: ' .. p.reason)
  end
  return table.concat(parts, '\n')
end

local function count_for(client_id, task_id)
  local n = 0
  for _, a in ipairs(M.queue) do
    if a.client_id == client_id and a.params.taskId == task_id then
      n = n + 1
    end
  end
  return n
end

local function tell_tasks(a)
  require('tandem.tasks').set_waiting(
    a.client_id,
    a.params.taskId,
    count_for(a.client_id, a.params.taskId)
  )
end

local function remove(a)
  for i, q in ipairs(M.queue) do
    if q == a then
      table.remove(M.queue, i)
      break
    end
  end
  tell_tasks(a)
  vim.cmd('redrawstatus')
end

--- Opens the picker for the next request (postponed ones only when `all`).
---@param all boolean?
function M.ask(all)
  if asking then
    return
  end
  local a
  for _, q in ipairs(M.queue) do
    if all or not q.postponed then
      a = q
      break
    end
  end
  if not a then
    if all then
      util.notify('no approvals are waiting')
    end
    return
  end
  -- Do not pop a picker up under the user's fingers: wait for Normal mode.
  local mode = vim.api.nvim_get_mode().mode
  if not all and mode ~= 'n' then
    if not waiting_for_mode then
      waiting_for_mode = true
      vim.api.nvim_create_autocmd('ModeChanged', {
        pattern = '*:n',
        once = true,
        callback = function()
          waiting_for_mode = false
          vim.schedule(M.ask)
        end,
      })
    end
    return
  end
  asking = true
  local options = a.params.options
  if not options or #options == 0 then
    options = { 'allow_once', 'allow_session', 'deny' }
  end
  vim.ui.select(options, {
    prompt = M.describe(a.params),
    kind = 'tandem.approval',
    format_item = function(option)
      return labels[option] or option
    end,
  }, function(choice)
    asking = false
    if choice then
      remove(a)
      a.resume(choice)
    else
      a.postponed = true
      util.notify(
        'approval postponed; answer it with :Tandem approvals (unanswered, it times out as a deny)',
        vim.log.levels.WARN
      )
    end
    vim.schedule(M.ask)
  end)
end

--- Takes a request off the queue once the backend's deadline has passed: by then the backend
--- has counted it as a deny and moved on (and sent `$/cancelRequest`, which `vim.lsp` does not
--- hand to plugins with the request's id), so answering it later would do nothing.
---@param a tandem.Approval
local function expire_after_timeout(a)
  local seconds = config.options.approvals.timeout_seconds or 120
  vim.defer_fn(function()
    for _, q in ipairs(M.queue) do
      if q == a then
        remove(a)
        util.notify(
          string.format(
            'nobody answered within %d s, so it counted as a deny: %s',
            seconds,
            (M.describe(a.params):gsub('\n.*', ''))
          ),
          vim.log.levels.WARN
        )
        a.resume('deny')
        return
      end
    end
  end, seconds * 1000)
end

--- `tandem/approval/request` handler. Runs in the coroutine `vim.lsp` gives server requests:
--- it yields until the user answers, and returns the result for the backend.
---@param client_id integer
---@param params table ApprovalRequestParams
---@return table? result
---@return table? err
function M.on_request(client_id, params)
  local co, is_main = coroutine.running()
  if not co or is_main then
    -- Cannot wait here (a Neovim without coroutine handlers): never guess, let the backend
    -- fall back to its timeout, which counts as a deny.
    return nil,
      vim.lsp.rpc_response_error(vim.lsp.protocol.ErrorCodes.InternalError, 'cannot ask now')
  end
  local answered, decision = false, nil
  local a = {
    client_id = client_id,
    params = params,
    postponed = false,
  }
  a.resume = function(choice)
    if answered then
      return
    end
    answered = true
    decision = choice
    if coroutine.status(co) == 'suspended' then
      local ok, err = coroutine.resume(co, choice)
      if not ok then
        require('tandem.log').error('approval coroutine failed', err)
      end
    end
  end
  table.insert(M.queue, a)
  tell_tasks(a)
  vim.cmd('redrawstatus')
  expire_after_timeout(a)
  if config.options.approvals.auto_open then
    vim.schedule(M.ask)
  else
    util.notify(
      string.format('%s asks for approval: :Tandem approvals', params.taskId or 'a task'),
      vim.log.levels.WARN
    )
  end
  if not answered then
    decision = coroutine.yield()
  end
  return { decision = decision }
end

--- A task ended: its waiting requests were answered by the backend's timeout or cancel.
---@param client_id integer
---@param task_id string
function M.on_task_ended(client_id, task_id)
  for i = #M.queue, 1, -1 do
    local a = M.queue[i]
    if a.client_id == client_id and a.params.taskId == task_id then
      table.remove(M.queue, i)
      a.resume('cancel')
    end
  end
  require('tandem.tasks').set_waiting(client_id, task_id, 0)
end

--- The backend stopped: nobody waits for these answers any more.
---@param client_id integer
function M.on_backend_lost(client_id)
  for i = #M.queue, 1, -1 do
    if M.queue[i].client_id == client_id then
      table.remove(M.queue, i)
    end
  end
  vim.cmd('redrawstatus')
end

return M
