-- Tasks: starts them, mirrors their `tandem/task/event` stream, and shows it in scratch buffers.
--
-- Events only update a model (items by id); the buffer is redrawn by a throttled flush that
-- rewrites only the blocks that changed, so a fast stream never freezes the editor.
local config = require('tandem.config')
local lsp = require('tandem.lsp')
local util = require('tandem.util')

local M = {}

M.ns = vim.api.nvim_create_namespace('tandem.task')

--- How often, at most, a task buffer is redrawn while events stream in.
local FLUSH_MS = 40

---@class tandem.Task
---@field key string client id .. ':' .. task id
---@field id string
---@field client_id integer
---@field root string
---@field prompt string?
---@field thread_id string?
---@field status string
---@field error string?
---@field usage table?
---@field items table<string, table> by item id
---@field order string[] item ids in arrival order
---@field plan table[]? the latest todo_list items
---@field approvals integer approvals waiting for the user
---@field started integer os.time()
---@field buf integer?
---@field blocks {key: string, lines: string[], hls: table[]}[] what the buffer shows, per block
---@field dirty boolean
---@field flush fun()?

---@type table<string, tandem.Task>
M.tasks = {}
---@type string[] task keys, oldest first
M.order = {}

local ACTIVE = { starting = true, running = true, ['waiting for approval'] = true }

---@param client_id integer
---@param task_id string
---@return tandem.Task
local function get(client_id, task_id)
  local key = client_id .. ':' .. task_id
  local task = M.tasks[key]
  if not task then
    local b = lsp.backend_of_client(client_id)
    task = {
      key = key,
      id = task_id,
      client_id = client_id,
      root = b and b.root or vim.fn.getcwd(),
      status = 'starting',
      items = {},
      order = {},
      approvals = 0,
      started = os.time(),
      blocks = {},
      dirty = false,
    }
    M.tasks[key] = task
    table.insert(M.order, key)
  end
  return task
end

--- The task with a backend task id (the newest one when several backends reuse ids).
---@param client_id integer
---@param task_id string
---@return tandem.Task?
function M.find(client_id, task_id)
  return M.tasks[client_id .. ':' .. task_id]
end

--- Tasks newest first.
---@return tandem.Task[]
function M.list()
  local out = {}
  for i = #M.order, 1, -1 do
    table.insert(out, M.tasks[M.order[i]])
  end
  return out
end

--- Whether a task may still produce events.
---@param task tandem.Task
---@return boolean
function M.is_active(task)
  return ACTIVE[task.status] == true
end

-- Rendering ---------------------------------------------------------------------------------

local function push(lines, hls, text, hl)
  table.insert(lines, text)
  if hl then
    table.insert(hls, { #lines - 1, hl })
  end
end

local function indent(lines, hls, text, prefix, hl, max)
  local all = util.lines(text or '')
  local first = 1
  if max and #all > max then
    first = #all - max + 1
    push(lines, hls, prefix .. string.format('... (%d earlier lines)', first - 1), 'TandemTaskDim')
  end
  for i = first, #all do
    push(lines, hls, prefix .. all[i], hl)
  end
end

local function render_header(task)
  local lines, hls = {}, {}
  push(
    lines,
    hls,
    string.format(
      'Task %s  [%s]%s',
      task.id,
      task.status,
      task.thread_id and ('  thread ' .. task.thread_id) or ''
    ),
    'TandemTaskHeader'
  )
  for _, line in ipairs(util.lines(task.prompt or '')) do
    push(lines, hls, '> ' .. line, 'TandemTaskPrompt')
  end
  push(lines, hls, '')
  return lines, hls
end

local function render_plan(task)
  local lines, hls = {}, {}
  if not task.plan or #task.plan == 0 then
    return lines, hls
  end
  local done = 0
  for _, step in ipairs(task.plan) do
    done = done + (step.completed and 1 or 0)
  end
  push(lines, hls, string.format('Plan (%d/%d)', done, #task.plan), 'TandemTaskHeader')
  for _, step in ipairs(task.plan) do
    push(
      lines,
      hls,
      string.format('  - [%s] %s', step.completed and 'x' or ' ', step.text),
      step.completed and 'TandemPlanDone' or 'TandemPlanPending'
    )
  end
  push(lines, hls, '')
  return lines, hls
end

local status_text = {
  in_progress = 'running',
  completed = nil,
  failed = 'failed',
  declined = 'declined',
}

local function render_item(item)
  local lines, hls = {}, {}
  local t = item.type
  if t == 'agent_message' then
    for _, line in ipairs(util.lines(item.text or '')) do
      push(lines, hls, line)
    end
  elseif t == 'reasoning' then
    indent(lines, hls, item.text, '  ~ ', 'TandemTaskDim')
  elseif t == 'command_execution' then
    local state = status_text[item.status]
    if item.status == 'completed' or (item.exit_code ~= nil and item.exit_code ~= vim.NIL) then
      state = 'exit ' .. tostring(item.exit_code)
    end
    push(
      lines,
      hls,
      string.format('$ %s%s', item.command or '', state and ('  (' .. state .. ')') or ''),
      (item.status == 'failed' or item.status == 'declined') and 'TandemTaskError'
        or 'TandemTaskCommand'
    )
    indent(
      lines,
      hls,
      item.aggregated_output,
      '    ',
      'TandemTaskOutput',
      config.options.task.max_output_lines
    )
  elseif t == 'file_change' then
    for _, change in ipairs(item.changes or {}) do
      push(
        lines,
        hls,
        string.format(
          '* %s %s%s',
          change.kind,
          util.short_path(change.path),
          item.status ~= 'completed' and ('  (' .. (status_text[item.status] or item.status) .. ')')
            or ''
        ),
        item.status == 'declined' and 'TandemTaskError' or 'TandemTaskFile'
      )
    end
  elseif t == 'mcp_tool_call' then
    push(
      lines,
      hls,
      string.format('# %s.%s  (%s)', item.server or '?', item.tool or '?', item.status or ''),
      'TandemTaskCommand'
    )
    if item.error and item.error ~= vim.NIL then
      indent(lines, hls, tostring(item.error), '    ', 'TandemTaskError')
    end
  elseif t == 'todo_list' then
    local done = 0
    for _, step in ipairs(item.items or {}) do
      done = done + (step.completed and 1 or 0)
    end
    push(
      lines,
      hls,
      string.format('  (plan updated: %d/%d done)', done, #(item.items or {})),
      'TandemTaskDim'
    )
  elseif t == 'error' then
    indent(lines, hls, item.message, '! ', 'TandemTaskError')
  else
    push(lines, hls, string.format('(%s)', tostring(t)), 'TandemTaskDim')
  end
  push(lines, hls, '')
  return lines, hls
end

local function render_footer(task)
  local lines, hls = {}, {}
  if task.approvals > 0 then
    push(
      lines,
      hls,
      string.format('Waiting for your approval (%d): :Tandem approvals', task.approvals),
      'TandemTaskWaiting'
    )
  end
  if task.status == 'completed' then
    local u = task.usage
    push(
      lines,
      hls,
      u
          and string.format(
            '-- turn completed (%d tokens in, %d out)',
            u.input_tokens or 0,
            u.output_tokens or 0
          )
        or '-- turn completed',
      'TandemTaskDone'
    )
  elseif task.status == 'failed' or task.status == 'cancelled' or task.status == 'interrupted' then
    push(
      lines,
      hls,
      '-- ' .. task.status .. (task.error and (': ' .. task.error) or ''),
      'TandemTaskError'
    )
  end
  return lines, hls
end

--- Every block of the task, in display order: `{key, lines, hls}`.
local function blocks(task)
  local out = {}
  local function add(key, lines, hls)
    table.insert(out, { key = key, lines = lines, hls = hls })
  end
  add('header', render_header(task))
  add('plan', render_plan(task))
  for _, id in ipairs(task.order) do
    add('item:' .. id, render_item(task.items[id]))
  end
  add('footer', render_footer(task))
  return out
end

local function same(a, b)
  if #a ~= #b then
    return false
  end
  for i = 1, #a do
    if a[i] ~= b[i] then
      return false
    end
  end
  return true
end

--- Rewrites the blocks of the task buffer that changed since the last flush.
---@param task tandem.Task
local function flush(task)
  task.dirty = false
  local buf = task.buf
  if not buf or not vim.api.nvim_buf_is_valid(buf) then
    return
  end
  -- Windows whose cursor sits on the last line follow the stream, like `tail -f`.
  local followers = {}
  local count = vim.api.nvim_buf_line_count(buf)
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    if vim.api.nvim_win_get_cursor(win)[1] >= count then
      table.insert(followers, win)
    end
  end
  vim.bo[buf].modifiable = true
  local new = blocks(task)
  local old = task.blocks
  local row = 0
  local first_change = nil
  for i, block in ipairs(new) do
    local prev = old[i]
    if
      first_change == nil
      and (not prev or prev.key ~= block.key or not same(prev.lines, block.lines))
    then
      first_change = i
    end
    if first_change ~= nil then
      break
    end
    row = row + #block.lines
  end
  if first_change then
    -- Blocks only grow at the end or change in place, so a changed block is usually the last
    -- or one before it: rewrite from there on.
    local lines, hls = {}, {}
    for i = first_change, #new do
      for _, h in ipairs(new[i].hls) do
        table.insert(hls, { #lines + h[1], h[2] })
      end
      vim.list_extend(lines, new[i].lines)
    end
    vim.api.nvim_buf_clear_namespace(buf, M.ns, row, -1)
    vim.api.nvim_buf_set_lines(buf, row, -1, false, lines)
    for _, h in ipairs(hls) do
      local r = row + h[1]
      local text = lines[h[1] + 1] or ''
      vim.api.nvim_buf_set_extmark(buf, M.ns, r, 0, {
        end_row = r,
        end_col = #text,
        hl_group = h[2],
      })
    end
  end
  task.blocks = new
  vim.bo[buf].modifiable = false
  vim.bo[buf].modified = false
  local last = vim.api.nvim_buf_line_count(buf)
  for _, win in ipairs(followers) do
    if vim.api.nvim_win_is_valid(win) then
      vim.api.nvim_win_set_cursor(win, { last, 0 })
    end
  end
end

--- Schedules a redraw of the task's buffer (at most every FLUSH_MS).
---@param task tandem.Task
local function touch(task)
  task.dirty = true
  if not task.flush then
    task.flush = util.throttle(FLUSH_MS, function()
      if task.dirty then
        flush(task)
      end
    end)
  end
  task.flush()
end

--- Redraws now, without waiting for the throttle (tests and `:Tandem tasks`).
---@param task tandem.Task
function M.flush(task)
  flush(task)
end

--- The scratch buffer of a task, created on first use.
---@param task tandem.Task
---@return integer
function M.buffer(task)
  if task.buf and vim.api.nvim_buf_is_valid(task.buf) then
    if task.dirty then
      flush(task)
    end
    return task.buf
  end
  local buf = vim.api.nvim_create_buf(false, true)
  local name = string.format('tandem://task/%s', task.id)
  if vim.fn.bufnr(name) ~= -1 then
    name = string.format('tandem://task/%s/%d', task.id, task.client_id)
  end
  vim.api.nvim_buf_set_name(buf, name)
  vim.bo[buf].buftype = 'nofile'
  vim.bo[buf].bufhidden = 'hide'
  vim.bo[buf].swapfile = false
  vim.bo[buf].filetype = 'tandem-task'
  vim.b[buf].tandem_task = task.key
  task.buf = buf
  task.blocks = {}
  flush(task)
  return buf
end

--- Shows a task's stream in a window, per `task.open` (or `how`).
---@param task tandem.Task
---@param how string?
function M.open(task, how)
  how = how or config.options.task.open
  local buf = M.buffer(task)
  if how == 'none' then
    return
  end
  local existing = vim.fn.bufwinid(buf)
  if existing ~= -1 then
    if config.options.task.focus then
      vim.api.nvim_set_current_win(existing)
    end
    return
  end
  local prev = vim.api.nvim_get_current_win()
  if how == 'float' then
    local width = math.floor(vim.o.columns * 0.8)
    local height = math.floor(vim.o.lines * 0.7)
    vim.api.nvim_open_win(buf, true, {
      relative = 'editor',
      width = width,
      height = height,
      row = math.floor((vim.o.lines - height) / 2),
      col = math.floor((vim.o.columns - width) / 2),
      border = 'rounded',
      title = ' Tandem ' .. task.id .. ' ',
    })
    return
  elseif how == 'vsplit' then
    vim.cmd('botright vsplit')
  elseif how == 'tab' then
    vim.cmd('tab split')
  else
    vim.cmd('botright 15split')
  end
  vim.api.nvim_win_set_buf(0, buf)
  vim.wo[0][0].wrap = true
  vim.wo[0][0].number = false
  vim.wo[0][0].relativenumber = false
  vim.wo[0][0].signcolumn = 'no'
  vim.api.nvim_win_set_cursor(0, { vim.api.nvim_buf_line_count(buf), 0 })
  if not config.options.task.focus and how ~= 'tab' and vim.api.nvim_win_is_valid(prev) then
    vim.api.nvim_set_current_win(prev)
  end
end

-- Events ------------------------------------------------------------------------------------

local function item_of(task, id, kind)
  local item = task.items[id]
  if not item then
    item = { id = id, type = kind }
    task.items[id] = item
    table.insert(task.order, id)
  end
  return item
end

--- `tandem/task/event`: one event of a task, in order.
---@param client_id integer
---@param params {taskId: string, event: table}
function M.on_event(client_id, params)
  local task = get(client_id, params.taskId)
  local ev = params.event or {}
  local t = ev.type
  if t == 'thread.started' then
    task.thread_id = ev.thread_id
  elseif t == 'turn.started' then
    task.status = 'running'
    task.error = nil
  elseif t == 'item.started' or t == 'item.updated' or t == 'item.completed' then
    local item = ev.item or {}
    local existing = task.items[item.id]
    if existing and t ~= 'item.completed' then
      -- Keep text streamed so far when an update carries less of it.
      for k, v in pairs(item) do
        if
          not (
            (k == 'text' or k == 'aggregated_output')
            and #tostring(v) < #tostring(existing[k] or '')
          )
        then
          existing[k] = v
        end
      end
    else
      local slot = item_of(task, item.id, item.type)
      for k in pairs(slot) do
        slot[k] = nil
      end
      for k, v in pairs(item) do
        slot[k] = v
      end
    end
    if item.type == 'todo_list' then
      task.plan = item.items
    end
  elseif t == 'item.agent_message.delta' then
    local item = item_of(task, ev.item_id, 'agent_message')
    item.text = (item.text or '') .. (ev.delta or '')
  elseif t == 'item.reasoning.delta' then
    local item = item_of(task, ev.item_id, 'reasoning')
    item.text = (item.text or '') .. (ev.delta or '')
  elseif t == 'item.command_output.delta' then
    local item = item_of(task, ev.item_id, 'command_execution')
    item.aggregated_output = (item.aggregated_output or '') .. (ev.chunk or '')
  elseif t == 'turn.completed' then
    task.status = 'completed'
    task.usage = ev.usage
    require('tandem.approvals').on_task_ended(client_id, task.id)
  elseif t == 'turn.failed' then
    local msg = ev.error and ev.error.message or 'failed'
    task.status = msg:find('interrupt') and 'cancelled' or 'failed'
    task.error = msg
    require('tandem.approvals').on_task_ended(client_id, task.id)
  elseif t == 'error' then
    local id = '__error' .. tostring(#task.order + 1)
    local item = item_of(task, id, 'error')
    item.message = ev.message
  end
  touch(task)
  if t == 'turn.completed' or t == 'turn.failed' or t == 'turn.started' then
    vim.cmd('redrawstatus')
    vim.api.nvim_exec_autocmds('User', {
      pattern = 'TandemTaskStatus',
      modeline = false,
      data = { task = task.id, status = task.status },
    })
  end
end

--- The approvals module tells us how many approvals a task waits for.
---@param client_id integer
---@param task_id string
---@param waiting integer
function M.set_waiting(client_id, task_id, waiting)
  local task = M.find(client_id, task_id)
  if not task then
    return
  end
  task.approvals = waiting
  if waiting > 0 and task.status == 'running' then
    task.status = 'waiting for approval'
  elseif waiting == 0 and task.status == 'waiting for approval' then
    task.status = 'running'
  end
  touch(task)
  vim.cmd('redrawstatus')
end

--- The backend stopped: its running tasks are over.
---@param client_id integer
---@param expected boolean
function M.on_backend_lost(client_id, expected)
  for _, task in pairs(M.tasks) do
    if task.client_id == client_id and M.is_active(task) then
      task.status = 'interrupted'
      task.error = expected and 'the backend was stopped' or 'the backend stopped unexpectedly'
      touch(task)
    end
  end
end

-- Commands ----------------------------------------------------------------------------------

--- Starts a task; asks for the prompt when none is given.
---@param prompt string?
---@param opts {range: {line1: integer, line2: integer}?, root: string?}?
function M.start(prompt, opts)
  opts = opts or {}
  if not prompt or vim.trim(prompt) == '' then
    vim.ui.input({ prompt = 'Tandem task: ' }, function(input)
      if input and vim.trim(input) ~= '' then
        M.start(input, opts)
      end
    end)
    return
  end
  local root = opts.root or lsp.current_root()
  lsp.with_client(root, function(client)
    -- The selection the command was given goes out now, so the task's context includes it.
    require('tandem.focus').send_now({ range = opts.range, force = true })
    local t = config.options.task
    local params = { prompt = prompt }
    params.sandboxMode = t.sandbox_mode
    params.approvalPolicy = t.approval_policy
    params.model = t.model
    util.request(client, 'tandem/task/start', params, function(err, result)
      if err then
        util.notify('the task did not start: ' .. util.error_message(err), vim.log.levels.ERROR)
        return
      end
      local task = get(client.id, result.taskId)
      task.prompt = prompt
      if task.status == 'starting' then
        task.status = 'running'
      end
      touch(task)
      M.open(task)
      vim.cmd('redrawstatus')
    end)
  end)
end

--- Opens a task's stream; picks one when there are several.
function M.show()
  local list = M.list()
  if #list == 0 then
    util.notify('no tasks yet: start one with :Tandem task {prompt}')
    return
  end
  if #list == 1 then
    return M.open(list[1], config.options.task.open == 'none' and 'split' or nil)
  end
  vim.ui.select(list, {
    prompt = 'Tandem tasks',
    format_item = function(task)
      return string.format(
        '%s  [%s]  %s',
        task.id,
        task.status,
        (task.prompt or ''):gsub('\n', ' ')
      )
    end,
  }, function(task)
    if task then
      M.open(task, config.options.task.open == 'none' and 'split' or nil)
    end
  end)
end

--- Cancels the running task; picks one when several run.
function M.cancel()
  local running = vim.tbl_filter(M.is_active, M.list())
  local function cancel(task)
    local client = vim.lsp.get_client_by_id(task.client_id)
    if not client then
      return
    end
    util.request(client, 'tandem/task/cancel', { taskId = task.id }, function(err)
      if err then
        util.notify(
          'could not cancel ' .. task.id .. ': ' .. util.error_message(err),
          vim.log.levels.WARN
        )
      else
        util.notify('cancelled ' .. task.id)
      end
    end)
  end
  if #running == 0 then
    util.notify('no task is running')
  elseif #running == 1 then
    cancel(running[1])
  else
    vim.ui.select(running, {
      prompt = 'Cancel which task?',
      format_item = function(task)
        return string.format('%s  %s', task.id, (task.prompt or ''):gsub('\n', ' '))
      end,
    }, function(task)
      if task then
        cancel(task)
      end
    end)
  end
end

--- Resumes a recorded thread as a new task (`tandem/task/resume`), with an optional prompt.
function M.resume()
  lsp.request('tandem/task/list', vim.empty_dict(), function(err, result, client)
    if err then
      util.notify('could not list tasks: ' .. util.error_message(err), vim.log.levels.WARN)
      return
    end
    local threads = vim.tbl_filter(function(t)
      return t.threadId ~= nil and t.threadId ~= vim.NIL
    end, result.tasks or {})
    if #threads == 0 then
      util.notify('no recorded task to resume')
      return
    end
    vim.ui.select(threads, {
      prompt = 'Resume which task?',
      format_item = function(t)
        return string.format('%s  [%s]  %s', t.taskId, t.status, (t.prompt or ''):gsub('\n', ' '))
      end,
    }, function(t)
      if not t then
        return
      end
      vim.ui.input({ prompt = 'Follow-up (empty: just resume): ' }, function(input)
        local params = { threadId = t.threadId }
        if input and vim.trim(input) ~= '' then
          params.prompt = input
        end
        util.request(client, 'tandem/task/resume', params, function(e, r)
          if e then
            util.notify('could not resume: ' .. util.error_message(e), vim.log.levels.WARN)
            return
          end
          local task = get(client.id, r.taskId)
          task.prompt = params.prompt or t.prompt
          touch(task)
          M.open(task)
        end)
      end)
    end)
  end)
end

return M
