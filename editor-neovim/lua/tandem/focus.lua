-- Auto Context: tells the backend where the user is (`tandem/focus`), debounced, never blocking.
local config = require('tandem.config')
local lsp = require('tandem.lsp')
local util = require('tandem.util')

local M = {}

local last_sent = {} ---@type table<integer, string> client id -> the last params, encoded

--- The selections of the current window, in the client's encoding.
---@param bufnr integer
---@param enc string
---@param range {line1: integer, line2: integer}? An explicit line range (`:'<,'>Tandem`).
---@return table[]
local function selections(bufnr, enc, range)
  local function line_range(l1, l2)
    local last = vim.api.nvim_buf_get_lines(bufnr, l2 - 1, l2, false)[1] or ''
    return {
      start = { line = l1 - 1, character = 0 },
      ['end'] = { line = l2 - 1, character = util.byte_to_unit(last, #last, enc) },
    }
  end
  if range then
    return { line_range(range.line1, range.line2) }
  end
  local mode = vim.api.nvim_get_mode().mode
  local cursor = vim.api.nvim_win_get_cursor(0)
  local vpos = vim.fn.getpos('v')
  local a = { vpos[2], vpos[3] - 1 } -- 1-based row, 0-based byte column
  local b = { cursor[1], cursor[2] }
  if b[1] < a[1] or (b[1] == a[1] and b[2] < a[2]) then
    a, b = b, a
  end
  if mode == 'V' then
    return { line_range(a[1], b[1]) }
  elseif mode == 'v' then
    local last = vim.api.nvim_buf_get_lines(bufnr, b[1] - 1, b[1], false)[1] or ''
    -- The character under the end is selected too: go past it.
    local past = b[2] + math.max(1, #(vim.fn.strcharpart(last:sub(b[2] + 1), 0, 1)))
    return {
      {
        start = util.lsp_position(bufnr, a[1] - 1, a[2], enc),
        ['end'] = util.lsp_position(bufnr, b[1] - 1, past, enc),
      },
    }
  elseif mode == '\22' then
    local out = {}
    local c1, c2 = math.min(a[2], b[2]), math.max(a[2], b[2]) + 1
    for row = a[1], b[1] do
      table.insert(out, {
        start = util.lsp_position(bufnr, row - 1, c1, enc),
        ['end'] = util.lsp_position(bufnr, row - 1, c2, enc),
      })
    end
    return out
  end
  local here = util.lsp_position(bufnr, cursor[1] - 1, cursor[2], enc)
  return { { start = here, ['end'] = here } }
end

--- The focus params for the current window, or nil when it shows no file of that client.
---@param client vim.lsp.Client
---@param range {line1: integer, line2: integer}?
---@return table?
function M.params(client, range)
  local bufnr = vim.api.nvim_get_current_buf()
  if not util.is_file_buffer(bufnr) or not vim.lsp.buf_is_attached(bufnr, client.id) then
    return nil
  end
  local enc = client.offset_encoding or 'utf-16'
  local cursor = vim.api.nvim_win_get_cursor(0)
  local top, bottom = vim.fn.line('w0'), vim.fn.line('w$')
  local last = vim.api.nvim_buf_get_lines(bufnr, bottom - 1, bottom, false)[1] or ''
  return {
    uri = vim.uri_from_bufnr(bufnr),
    position = util.lsp_position(bufnr, cursor[1] - 1, cursor[2], enc),
    selections = selections(bufnr, enc, range),
    visibleRanges = {
      {
        start = { line = top - 1, character = 0 },
        ['end'] = { line = bottom - 1, character = util.byte_to_unit(last, #last, enc) },
      },
    },
  }
end

--- Sends the focus now (a notification: it never waits for the backend).
---@param opts {range: {line1: integer, line2: integer}?, force: boolean?}?
function M.send_now(opts)
  opts = opts or {}
  if not config.options.context.enabled then
    return
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local root = vim.b[bufnr].tandem_root
  if not root then
    return
  end
  local b = lsp.backends[root]
  local client = lsp.client(root)
  if not client or not b or not b.extensions then
    return
  end
  local params = M.params(client, opts.range)
  if not params then
    return
  end
  local key = vim.json.encode(params)
  if not opts.force and last_sent[client.id] == key then
    return
  end
  last_sent[client.id] = key
  util.notify_server(client, 'tandem/focus', params)
end

local schedule = util.debounce(function()
  return config.options.context.debounce_ms
end, function()
  M.send_now()
end)

local severities = { 'error', 'warning', 'information', 'hint' }

--- Forwards the diagnostics other sources published for a buffer.
---@param bufnr integer
function M.forward_diagnostics(bufnr)
  if not config.options.context.forward_diagnostics or not vim.api.nvim_buf_is_valid(bufnr) then
    return
  end
  local root = vim.b[bufnr].tandem_root
  local client = root and lsp.client(root)
  local b = root and lsp.backends[root]
  if not client or not b or not b.extensions or not vim.lsp.buf_is_attached(bufnr, client.id) then
    return
  end
  local enc = client.offset_encoding or 'utf-16'
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local ns = vim.diagnostic.get_namespace(d.namespace)
    -- Never echo the backend's own diagnostics back to it.
    if not (ns and ns.name and ns.name:find(lsp.NAME, 1, true)) then
      table.insert(out, {
        range = {
          start = util.lsp_position(bufnr, d.lnum, d.col, enc),
          ['end'] = util.lsp_position(bufnr, d.end_lnum or d.lnum, d.end_col or d.col, enc),
        },
        severity = severities[d.severity] or 'information',
        message = d.message,
        source = d.source,
      })
    end
  end
  util.notify_server(client, 'tandem/diagnostics/forward', {
    uri = vim.uri_from_bufnr(bufnr),
    diagnostics = out,
  })
end

local diag_timers = {} ---@type table<integer, fun()>

--- Installs the autocommands that keep the backend's focus current.
---@param group integer
function M.setup(group)
  vim.api.nvim_create_autocmd({
    'CursorMoved',
    'CursorMovedI',
    'ModeChanged',
    'WinScrolled',
    'BufEnter',
    'WinEnter',
    'FocusGained',
  }, {
    group = group,
    callback = function()
      schedule()
    end,
  })
  vim.api.nvim_create_autocmd('DiagnosticChanged', {
    group = group,
    callback = function(args)
      local buf = args.buf
      if not diag_timers[buf] then
        diag_timers[buf] = util.debounce(config.options.context.debounce_ms, function()
          M.forward_diagnostics(buf)
        end)
      end
      diag_timers[buf]()
    end,
  })
  vim.api.nvim_create_autocmd('BufWipeout', {
    group = group,
    callback = function(args)
      diag_timers[args.buf] = nil
    end,
  })
end

--- Forgets what was sent to a client (after a restart everything is sent again).
---@param client_id integer
function M.forget(client_id)
  last_sent[client_id] = nil
end

--- Turns Auto Context on or off for this session (`tandem/context/setEnabled`).
---@param enabled boolean
function M.set_enabled(enabled)
  config.options.context.enabled = enabled
  lsp.request('tandem/context/setEnabled', { enabled = enabled }, function(err, result)
    if err then
      util.notify('could not switch Auto Context: ' .. util.error_message(err), vim.log.levels.WARN)
      return
    end
    util.notify('Auto Context is ' .. ((result and result.enabled) and 'on' or 'off'))
    if result and result.enabled then
      M.send_now({ force = true })
    end
  end)
end

local exclusion_text = {
  secret = 'looks like a secret',
  gitignored = 'ignored by .gitignore',
  denied = 'matches the deny list',
  outsideWorkspace = 'outside the workspace',
  overBudget = 'over the token budget',
  limit = 'more recent files took the slots',
}

--- The preview as lines, for a scratch buffer.
---@param result table ContextPreviewResult
---@param root string? paths are shown relative to it
---@return string[]
function M.preview_lines(result, root)
  local lines = {}
  if not result.enabled then
    table.insert(lines, 'Auto Context is off: nothing is attached to the next turn.')
    table.insert(lines, 'Turn it on with :Tandem context on')
    return lines
  end
  table.insert(
    lines,
    string.format(
      'Auto Context: %d of %d tokens, %d item%s',
      result.totalTokens,
      result.budget,
      #result.items,
      #result.items == 1 and '' or 's'
    )
  )
  for _, item in ipairs(result.items) do
    local where = util.rel_path(util.uri_to_fname(item.uri), root)
    if item.range then
      where =
        string.format('%s:%d-%d', where, item.range.start.line + 1, item.range['end'].line + 1)
    end
    table.insert(lines, '')
    table.insert(
      lines,
      string.format(
        '## %s  %s  (%d tokens%s)',
        item.kind,
        where,
        item.tokens,
        item.truncated and ', truncated' or ''
      )
    )
    vim.list_extend(lines, util.lines(item.text))
  end
  if result.excluded and #result.excluded > 0 then
    table.insert(lines, '')
    table.insert(lines, '## excluded')
    for _, ex in ipairs(result.excluded) do
      local why = exclusion_text[ex.reason.type] or ex.reason.type
      if ex.reason.pattern then
        why = why .. ' (' .. ex.reason.pattern .. ')'
      end
      table.insert(
        lines,
        string.format('- %s: %s', util.rel_path(util.uri_to_fname(ex.uri), root), why)
      )
    end
  end
  return lines
end

--- Shows exactly what the next turn would carry (`tandem/context/preview`) in a scratch buffer.
---@param opts {range: {line1: integer, line2: integer}?}? a line range to preview as the selection
function M.preview(opts)
  -- The preview must describe the focus as it is now, not as it was 150 ms ago.
  M.send_now({ force = true, range = opts and opts.range })
  local root = lsp.current_root()
  lsp.request('tandem/context/preview', vim.empty_dict(), function(err, result)
    if err then
      util.notify('no context preview: ' .. util.error_message(err), vim.log.levels.WARN)
      return
    end
    local buf = vim.fn.bufnr('tandem://context')
    if buf == -1 then
      buf = vim.api.nvim_create_buf(false, true)
      vim.api.nvim_buf_set_name(buf, 'tandem://context')
      vim.bo[buf].bufhidden = 'hide'
      vim.bo[buf].filetype = 'markdown'
    end
    vim.bo[buf].modifiable = true
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, M.preview_lines(result, root))
    vim.bo[buf].modifiable = false
    if vim.fn.bufwinid(buf) == -1 then
      -- Show it without taking the cursor away from the code it describes.
      local prev = vim.api.nvim_get_current_win()
      vim.cmd('botright split')
      vim.api.nvim_win_set_buf(0, buf)
      vim.api.nvim_set_current_win(prev)
    end
  end, { root = root })
end

return M
