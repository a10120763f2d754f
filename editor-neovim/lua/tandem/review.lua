-- Inline review: draws the backend's pending hunks with extmarks and sends accept/reject.
--
-- The backend owns the hunks (ids, states, ranges re-anchored after every edit); this module
-- only mirrors `tandem/review/list` and `tandem/review/changed`. Between two notifications the
-- extmarks move with the user's edits on their own, so a decision always targets the hunk the
-- user sees under the cursor.
local config = require('tandem.config')
local lsp = require('tandem.lsp')
local util = require('tandem.util')

local M = {}

M.ns = vim.api.nvim_create_namespace('tandem.review')

--- Hunk states that still need a decision or are being carried out.
local LIVE = { pending = true, conflicted = true, applying = true, reverting = true }

---@class tandem.RootReview
---@field generation integer
---@field changes table<string, table> ReviewChange by changeId
---@field stale boolean The backend that sent them stopped.

---@type table<string, tandem.RootReview>
M.roots = {}

---@class tandem.Anchor
---@field id integer extmark id
---@field hunk_id string
---@field root string

---@type table<integer, tandem.Anchor[]>
local anchors = {}
---@type table<integer, string[]> buffer -> lhs of the review keymaps set on it
local mapped = {}
---@type table<integer, integer> source buffer -> diff scratch buffer
local diffs = {}

local function root_state(root)
  local st = M.roots[root]
  if not st then
    st = { generation = -1, changes = {}, stale = false }
    M.roots[root] = st
  end
  return st
end

--- Every live hunk, with its change and file: `fn(root, change, file, hunk)`.
---@param fn fun(root: string, change: table, file: table, hunk: table)
local function each_hunk(fn)
  for root, st in pairs(M.roots) do
    for _, change in pairs(st.changes) do
      for _, file in ipairs(change.files or {}) do
        for _, hunk in ipairs(file.hunks or {}) do
          if LIVE[hunk.state] then
            fn(root, change, file, hunk)
          end
        end
      end
    end
  end
end

--- The number of hunks waiting for a decision (in one root, or everywhere).
---@param root string?
---@return integer
function M.count(root)
  local n = 0
  each_hunk(function(r, _, _, hunk)
    if (not root or r == root) and (hunk.state == 'pending' or hunk.state == 'conflicted') then
      n = n + 1
    end
  end)
  return n
end

--- Expands tabs so virtual lines line up with the text.
local function expand_tabs(line, ts)
  if not line:find('\t', 1, true) then
    return line
  end
  local out, col = {}, 0
  for ch in line:gmatch('.') do
    if ch == '\t' then
      local n = ts - (col % ts)
      table.insert(out, string.rep(' ', n))
      col = col + n
    else
      table.insert(out, ch)
      col = col + 1
    end
  end
  return table.concat(out)
end

local function virt_lines(text, hl, bufnr)
  local ts = vim.bo[bufnr].tabstop
  local width = vim.o.columns
  local out = {}
  for _, line in ipairs(util.lines(text)) do
    line = expand_tabs(line, ts)
    local pad = math.max(0, width - vim.fn.strdisplaywidth(line))
    table.insert(out, { { line .. string.rep(' ', pad), hl } })
  end
  return out
end

local function key_hint(name, fallback)
  local maps = config.options.keymaps
  local lhs = maps and maps[name]
  return lhs or fallback
end

--- Draws one hunk; returns its anchor.
---@return tandem.Anchor?
local function draw(bufnr, root, change, hunk, stale)
  local opts = config.options.review
  local count = vim.api.nvim_buf_line_count(bufnr)
  local r = hunk.range
  local srow = math.max(0, math.min(r.start.line, count))
  local erow = r['end'].line + ((r['end'].character or 0) > 0 and 1 or 0)
  erow = math.max(srow, math.min(erow, count))
  local base = erow - srow
  local after = change.model == 'applyThenReview'
  local other_text = after and hunk.oldText or hunk.newText
  local base_hl = after and 'TandemAdd' or 'TandemDelete'
  local other_hl = after and 'TandemDelete' or 'TandemAdd'
  if hunk.state == 'conflicted' then
    base_hl = 'TandemConflict'
  end

  -- The anchor covers the hunk's lines in the buffer; a pure insertion anchors to a line.
  local arow = srow
  local virt_above = after or base == 0
  if srow >= count then
    arow = math.max(0, count - 1)
    virt_above = false
  end
  local mark = { right_gravity = true, priority = 200 }
  if base > 0 then
    local last = vim.api.nvim_buf_get_lines(bufnr, erow - 1, erow, false)[1] or ''
    mark.end_row = erow - 1
    mark.end_col = #last
    mark.end_right_gravity = false
    if opts.inline then
      mark.hl_group = base_hl
      mark.hl_eol = true
    end
  end
  local id = vim.api.nvim_buf_set_extmark(bufnr, M.ns, arow, 0, mark)

  if not opts.inline then
    return { id = id, hunk_id = hunk.hunkId, root = root }
  end

  -- The other side, as virtual lines: above for apply-then-review (the removed lines) and for
  -- insertions, below the old lines for approve-before-write (the lines that would replace them).
  if opts.virt_lines and other_text and other_text ~= '' then
    local vrow = virt_above and arow or (base > 0 and erow - 1 or arow)
    vim.api.nvim_buf_set_extmark(bufnr, M.ns, vrow, 0, {
      virt_lines = virt_lines(other_text, other_hl, bufnr),
      virt_lines_above = virt_above and vrow == srow,
    })
  end

  if opts.signs then
    local sign, sign_hl
    if hunk.state == 'conflicted' then
      sign, sign_hl = '!', 'TandemSignConflict'
    elseif hunk.oldText ~= '' and hunk.newText ~= '' then
      sign, sign_hl = '~', 'TandemSignChange'
    elseif hunk.newText ~= '' then
      sign, sign_hl = '+', 'TandemSignAdd'
    else
      sign, sign_hl = '-', 'TandemSignDelete'
    end
    for row = arow, math.max(arow, erow - 1) do
      vim.api.nvim_buf_set_extmark(
        bufnr,
        M.ns,
        row,
        0,
        { sign_text = sign, sign_hl_group = sign_hl }
      )
    end
  end

  if opts.hint then
    local text
    if stale then
      text = hunk.hunkId .. ': backend stopped, :Tandem restart'
    elseif hunk.state == 'conflicted' then
      text = hunk.hunkId
        .. ': edited since proposed; reject only '
        .. key_hint('reject', ':Tandem reject')
    elseif hunk.state == 'applying' or hunk.state == 'reverting' then
      text = hunk.hunkId .. ': ' .. hunk.state .. '...'
    else
      text = string.format(
        '%s: %s accept  %s reject',
        hunk.hunkId,
        key_hint('accept', ':Tandem accept'),
        key_hint('reject', ':Tandem reject')
      )
    end
    vim.api.nvim_buf_set_extmark(bufnr, M.ns, arow, 0, {
      virt_text = { { '  ' .. text, 'TandemHint' } },
      virt_text_pos = 'eol',
    })
  end
  return { id = id, hunk_id = hunk.hunkId, root = root }
end

--- Sets or removes the buffer-local review keymaps.
local function update_keymaps(bufnr, has_hunks)
  if has_hunks and not mapped[bufnr] then
    local maps = config.options.keymaps
    mapped[bufnr] = {}
    if not maps then
      return
    end
    local actions = {
      accept = 'Accept the hunk under the cursor',
      reject = 'Reject the hunk under the cursor',
      accept_file = 'Accept every hunk of this file',
      reject_file = 'Reject every hunk of this file',
      next_hunk = 'Next pending hunk',
      prev_hunk = 'Previous pending hunk',
      diff = 'Side-by-side diff of the pending hunks',
    }
    for name, desc in pairs(actions) do
      local lhs = maps[name]
      if lhs then
        vim.keymap.set('n', lhs, '<Plug>(tandem-' .. name:gsub('_', '-') .. ')', {
          buffer = bufnr,
          desc = 'Tandem: ' .. desc,
        })
        table.insert(mapped[bufnr], lhs)
      end
    end
  elseif not has_hunks and mapped[bufnr] then
    for _, lhs in ipairs(mapped[bufnr]) do
      pcall(vim.keymap.del, 'n', lhs, { buffer = bufnr })
    end
    mapped[bufnr] = nil
  end
end

--- Redraws the hunks of one buffer from the mirrored state.
---@param bufnr integer
function M.render(bufnr)
  if not vim.api.nvim_buf_is_valid(bufnr) or not vim.api.nvim_buf_is_loaded(bufnr) then
    return
  end
  vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  anchors[bufnr] = {}
  local fname = vim.api.nvim_buf_get_name(bufnr)
  if fname == '' then
    return
  end
  each_hunk(function(root, change, file, hunk)
    if util.uri_to_fname(file.uri) == fname then
      local anchor = draw(bufnr, root, change, hunk, M.roots[root].stale)
      if anchor then
        table.insert(anchors[bufnr], anchor)
      end
    end
  end)
  update_keymaps(bufnr, #anchors[bufnr] > 0)
  if diffs[bufnr] then
    M.update_diff(bufnr)
  end
end

--- Redraws every loaded buffer showing one of `fnames` (all buffers when nil).
---@param fnames table<string, true>?
local function render_files(fnames)
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) then
      local name = vim.api.nvim_buf_get_name(buf)
      if (fnames == nil and (anchors[buf] or name ~= '')) or (fnames and fnames[name]) then
        M.render(buf)
      end
    end
  end
end

local function files_of(change, into)
  for _, file in ipairs(change and change.files or {}) do
    into[util.uri_to_fname(file.uri)] = true
  end
end

--- After a change of the mirrored state: redraw, refresh our list, redraw statuslines.
local function changed(fnames)
  render_files(fnames)
  M.refresh_list()
  vim.cmd('redrawstatus')
  vim.api.nvim_exec_autocmds('User', { pattern = 'TandemReviewChanged', modeline = false })
end

--- `tandem/review/changed`: upserts and removals.
---@param client_id integer
---@param params table ReviewChangedParams
function M.on_changed(client_id, params)
  local b = lsp.backend_of_client(client_id)
  if not b then
    return
  end
  local st = root_state(b.root)
  if params.generation < st.generation then
    return
  end
  st.generation = params.generation
  st.stale = false
  local fnames = {}
  for _, change in ipairs(params.changes or {}) do
    files_of(st.changes[change.changeId], fnames)
    files_of(change, fnames)
    st.changes[change.changeId] = change
  end
  for _, id in ipairs(params.removed or {}) do
    files_of(st.changes[id], fnames)
    st.changes[id] = nil
  end
  changed(fnames)
end

--- Replaces the mirrored state of a root with the backend's `tandem/review/list`.
---@param root string
---@param cb fun()?
function M.refresh(root, cb)
  lsp.request('tandem/review/list', vim.empty_dict(), function(err, result)
    if err then
      util.notify(
        'could not list the pending changes: ' .. util.error_message(err),
        vim.log.levels.WARN
      )
      return
    end
    local st = root_state(root)
    local fnames = {}
    for _, change in pairs(st.changes) do
      files_of(change, fnames)
    end
    st.changes = {}
    for _, change in ipairs(result.changes or {}) do
      st.changes[change.changeId] = change
      files_of(change, fnames)
    end
    st.generation = result.generation
    st.stale = false
    changed(fnames)
    if cb then
      cb()
    end
  end, { root = root })
end

--- The backend stopped: keep its hunks on screen, marked stale, until a restart refreshes them.
---@param root string
---@param expected boolean
function M.on_backend_lost(root, expected)
  local st = M.roots[root]
  if not st then
    return
  end
  if expected then
    local fnames = {}
    for _, change in pairs(st.changes) do
      files_of(change, fnames)
    end
    M.roots[root] = nil
    changed(fnames)
    return
  end
  st.stale = true
  st.generation = -1
  changed(nil)
end

--- The anchor of the hunk at a row of a buffer, with its extmark position.
---@param bufnr integer
---@param row integer 0-based
---@return tandem.Anchor?
function M.hunk_at(bufnr, row)
  local best, best_dist = nil, math.huge
  for _, a in ipairs(anchors[bufnr] or {}) do
    local pos = vim.api.nvim_buf_get_extmark_by_id(bufnr, M.ns, a.id, { details = true })
    if pos and pos[1] then
      local s = pos[1]
      local e = pos[3] and pos[3].end_row or s
      if row >= s and row <= e then
        local dist = row - s
        if dist < best_dist then
          best, best_dist = a, dist
        end
      end
    end
  end
  return best
end

--- Where each anchored hunk of a buffer is now: `{hunk_id, row (0-based), end_row}`, in order.
---@param bufnr integer
---@return {hunk_id: string, root: string, row: integer, end_row: integer}[]
function M.positions(bufnr)
  local out = {}
  for _, a in ipairs(anchors[bufnr] or {}) do
    local pos = vim.api.nvim_buf_get_extmark_by_id(bufnr, M.ns, a.id, { details = true })
    if pos and pos[1] then
      table.insert(out, {
        hunk_id = a.hunk_id,
        root = a.root,
        row = pos[1],
        end_row = pos[3] and pos[3].end_row or pos[1],
      })
    end
  end
  table.sort(out, function(x, y)
    return x.row < y.row
  end)
  return out
end

--- The hunk the user means: the quickfix entry under the cursor, or the hunk under the cursor.
---@return {hunk_id: string, root: string}?
local function target_hunk()
  local bufnr = vim.api.nvim_get_current_buf()
  if vim.bo[bufnr].buftype == 'quickfix' then
    local wininfo = vim.fn.getwininfo(vim.api.nvim_get_current_win())[1]
    local items = wininfo and wininfo.loclist == 1 and vim.fn.getloclist(0) or vim.fn.getqflist()
    local item = items[vim.fn.line('.')]
    local data = item and item.user_data
    if type(data) == 'table' and data.tandem_hunk then
      return { hunk_id = data.tandem_hunk, root = data.tandem_root }
    end
    return nil
  end
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local a = M.hunk_at(bufnr, row)
  return a and { hunk_id = a.hunk_id, root = a.root } or nil
end

local function report(action, err, result)
  if err then
    util.notify(action .. ' failed: ' .. util.error_message(err), vim.log.levels.WARN)
    return
  end
  for _, refusal in ipairs(result and result.refused or {}) do
    util.notify(
      string.format('%s refused for %s: %s', action, refusal.hunkId, refusal.message),
      vim.log.levels.WARN
    )
  end
end

--- Accepts or rejects the hunk under the cursor (or the quickfix entry under it).
---@param action 'accept'|'reject'
function M.decide_hunk(action)
  local t = target_hunk()
  if not t then
    util.notify(
      string.format(
        'no pending hunk under the cursor (%s jumps to the next one, :Tandem review lists them)',
        key_hint('next_hunk', ':Tandem next')
      ),
      vim.log.levels.WARN
    )
    return
  end
  lsp.request(
    'tandem/review/' .. action,
    { target = { type = 'hunk', hunkId = t.hunk_id } },
    function(err, result)
      report(action, err, result)
    end,
    { root = t.root, bufnr = vim.api.nvim_get_current_buf() }
  )
end

--- Accepts or rejects every hunk of the current file.
---@param action 'accept'|'reject'
---@param bufnr integer?
function M.decide_file(action, bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local fname = vim.api.nvim_buf_get_name(bufnr)
  local root
  each_hunk(function(r, _, file)
    if util.uri_to_fname(file.uri) == fname then
      root = r
    end
  end)
  if not root then
    util.notify('this file has no pending hunks', vim.log.levels.WARN)
    return
  end
  lsp.request('tandem/review/' .. action, {
    target = { type = 'file', uri = vim.uri_from_fname(fname) },
  }, function(err, result)
    report(action, err, result)
  end, { root = root, bufnr = bufnr })
end

--- Undoes a turn's changes (apply-then-review), picking the turn when there are several.
function M.undo_turn()
  local turns, seen = {}, {}
  for root, st in pairs(M.roots) do
    for _, change in pairs(st.changes) do
      if change.turnId and not seen[change.turnId] then
        seen[change.turnId] = true
        table.insert(turns, { turn = change.turnId, root = root, task = change.taskId })
      end
    end
  end
  if #turns == 0 then
    util.notify('no turn has changes to undo', vim.log.levels.WARN)
    return
  end
  vim.ui.select(turns, {
    prompt = 'Undo every change of which turn?',
    format_item = function(t)
      return string.format('%s (%s)', t.turn, t.task or 'no task')
    end,
  }, function(t)
    if not t then
      return
    end
    lsp.request('tandem/review/undoTurn', { turnId = t.turn }, function(err, result)
      report('undo', err, result)
    end, { root = t.root })
  end)
end

--- Moves the cursor to the next (or previous) hunk of the buffer.
---@param dir 1|-1
function M.jump(dir)
  local bufnr = vim.api.nvim_get_current_buf()
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local list = M.positions(bufnr)
  if #list == 0 then
    util.notify('no pending hunks in this buffer', vim.log.levels.WARN)
    return
  end
  local target
  if dir > 0 then
    for _, p in ipairs(list) do
      if p.row > row then
        target = p
        break
      end
    end
    target = target or list[1]
  else
    for i = #list, 1, -1 do
      if list[i].row < row then
        target = list[i]
        break
      end
    end
    target = target or list[#list]
  end
  vim.api.nvim_win_set_cursor(0, { target.row + 1, 0 })
end

--- Every live hunk as a quickfix item (current positions for loaded buffers).
---@param only_buf integer?
---@return table[]
function M.items(only_buf)
  local items = {}
  local rows = {}
  for buf, _ in pairs(anchors) do
    if vim.api.nvim_buf_is_valid(buf) then
      for _, p in ipairs(M.positions(buf)) do
        rows[p.root .. '\0' .. p.hunk_id] = p.row
      end
    end
  end
  each_hunk(function(root, change, file, hunk)
    local fname = util.uri_to_fname(file.uri)
    if only_buf and vim.api.nvim_buf_get_name(only_buf) ~= fname then
      return
    end
    local first_new = util.lines(hunk.newText)[1]
    local first_old = util.lines(hunk.oldText)[1]
    local summary
    if hunk.wholeFile then
      summary = file.kind
        .. (file.moveTo and (' to ' .. util.short_path(util.uri_to_fname(file.moveTo))) or '')
    else
      summary = string.format(
        '-%d +%d  %s',
        #util.lines(hunk.oldText),
        #util.lines(hunk.newText),
        vim.trim(first_new or first_old or '')
      )
    end
    table.insert(items, {
      filename = fname,
      lnum = (rows[root .. '\0' .. hunk.hunkId] or hunk.range.start.line) + 1,
      col = 1,
      text = string.format('[%s %s] %s', hunk.hunkId, hunk.state, summary),
      type = hunk.state == 'conflicted' and 'W' or 'I',
      user_data = { tandem_hunk = hunk.hunkId, tandem_root = root, tandem_change = change.changeId },
    })
  end)
  table.sort(items, function(a, b)
    if a.filename ~= b.filename then
      return a.filename < b.filename
    end
    return a.lnum < b.lnum
  end)
  return items
end

local LIST_TITLE = 'Tandem: pending hunks'

--- Fills the quickfix (or location) list with the pending hunks and opens it.
---@param kind 'quickfix'|'loclist'|nil
function M.list(kind)
  kind = kind or config.options.review.list
  if kind == 'loclist' then
    vim.fn.setloclist(
      0,
      {},
      ' ',
      { title = LIST_TITLE, items = M.items(vim.api.nvim_get_current_buf()) }
    )
    vim.cmd('lopen')
  else
    vim.fn.setqflist({}, ' ', { title = LIST_TITLE, items = M.items() })
    vim.cmd('botright copen')
  end
end

--- Keeps our quickfix list current when it is the one shown (never replaces another list).
function M.refresh_list()
  local info = vim.fn.getqflist({ title = 0, id = 0 })
  if info.title == LIST_TITLE then
    vim.fn.setqflist({}, 'r', { id = info.id, title = LIST_TITLE, items = M.items() })
  end
end

--- The buffer's text with every pending hunk's other side in place of its base text.
---@param bufnr integer
---@return string[] lines
---@return boolean after true under apply-then-review (the other side is the old text)
local function other_side(bufnr)
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local fname = vim.api.nvim_buf_get_name(bufnr)
  local spans = {}
  local after = false
  local positions = {}
  for _, p in ipairs(M.positions(bufnr)) do
    positions[p.hunk_id] = p
  end
  each_hunk(function(_, change, file, hunk)
    if util.uri_to_fname(file.uri) ~= fname or hunk.state ~= 'pending' then
      return
    end
    after = change.model == 'applyThenReview'
    local r = hunk.range
    local s = r.start.line
    local e = r['end'].line + ((r['end'].character or 0) > 0 and 1 or 0)
    table.insert(spans, { s = s, e = e, text = after and hunk.oldText or hunk.newText })
  end)
  table.sort(spans, function(a, b)
    return a.s > b.s
  end)
  for _, span in ipairs(spans) do
    for _ = span.s + 1, math.min(span.e, #lines) do
      table.remove(lines, span.s + 1)
    end
    for i, line in ipairs(util.lines(span.text)) do
      table.insert(lines, span.s + i, line)
    end
  end
  return lines, after
end

--- Rewrites an open diff view after the hunks changed.
---@param bufnr integer
function M.update_diff(bufnr)
  local scratch = diffs[bufnr]
  if not scratch or not vim.api.nvim_buf_is_valid(scratch) then
    diffs[bufnr] = nil
    return
  end
  local lines = other_side(bufnr)
  vim.api.nvim_buf_set_lines(scratch, 0, -1, false, lines)
  vim.bo[scratch].modified = false
end

--- Toggles a side-by-side `:diffthis` view of the buffer and its hunks' other side. Writing the
--- proposed side (`:w`) accepts every hunk of the file; under apply-then-review the other side is
--- the original, and writing it rejects them.
---@param bufnr integer?
function M.diff(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local existing = diffs[bufnr]
  if existing and vim.api.nvim_buf_is_valid(existing) then
    diffs[bufnr] = nil
    for _, win in ipairs(vim.fn.win_findbuf(bufnr)) do
      vim.api.nvim_win_call(win, function()
        vim.cmd('diffoff')
      end)
    end
    vim.api.nvim_buf_delete(existing, { force = true })
    return
  end
  local lines, after = other_side(bufnr)
  local scratch = vim.api.nvim_create_buf(false, true)
  local label = after and 'original' or 'proposed'
  vim.api.nvim_buf_set_name(
    scratch,
    string.format('tandem://%s/%s', label, util.short_path(vim.api.nvim_buf_get_name(bufnr)))
  )
  vim.api.nvim_buf_set_lines(scratch, 0, -1, false, lines)
  vim.bo[scratch].buftype = 'acwrite'
  vim.bo[scratch].bufhidden = 'wipe'
  vim.bo[scratch].swapfile = false
  vim.bo[scratch].filetype = vim.bo[bufnr].filetype
  vim.bo[scratch].modified = false
  vim.api.nvim_create_autocmd('BufWriteCmd', {
    buffer = scratch,
    callback = function()
      M.decide_file(after and 'reject' or 'accept', bufnr)
      vim.bo[scratch].modified = false
    end,
  })
  vim.api.nvim_create_autocmd('BufWipeout', {
    buffer = scratch,
    callback = function()
      if diffs[bufnr] == scratch then
        diffs[bufnr] = nil
      end
    end,
  })
  diffs[bufnr] = scratch
  local src_win = vim.api.nvim_get_current_win()
  vim.cmd('diffthis')
  vim.cmd('rightbelow vsplit')
  vim.api.nvim_win_set_buf(0, scratch)
  vim.cmd('diffthis')
  vim.api.nvim_set_current_win(src_win)
  vim.api.nvim_exec_autocmds('User', { pattern = 'TandemDiffOpen', modeline = false })
end

--- Draws the hunks of a buffer that was just loaded or shown.
---@param group integer
function M.setup(group)
  vim.api.nvim_create_autocmd({ 'BufReadPost', 'BufWinEnter' }, {
    group = group,
    callback = function(args)
      if next(M.roots) then
        M.render(args.buf)
      end
    end,
  })
  vim.api.nvim_create_autocmd('BufWipeout', {
    group = group,
    callback = function(args)
      anchors[args.buf] = nil
      mapped[args.buf] = nil
    end,
  })
end

return M
