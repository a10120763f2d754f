-- Applies the backend's `workspace/applyEdit` so that each edit reaches it as one didChange.
--
-- The backend's hunks are whole lines. Neovim's own handler applies an edit that ends at the
-- end of the file as two buffer changes (a text change, then removing the extra last line), and
-- the text between the two makes the backend judge the hunk edited by hand. Whole-line edits
-- are applied here with `nvim_buf_set_lines` instead: one change, the exact text. Versioned
-- edits against a buffer that changed since are refused (Neovim's handler reports them as
-- applied), so the backend puts the hunk back to pending instead of believing it done.
local M = {}

--- Whether every edit replaces whole lines (starts and ends at a line start, text ends with a
--- newline or is empty).
---@param edits table[] lsp.TextEdit[]
---@return boolean
local function whole_lines(edits)
  for _, e in ipairs(edits) do
    if e.range.start.character ~= 0 or e.range['end'].character ~= 0 then
      return false
    end
    if e.newText ~= '' and e.newText:sub(-1) ~= '\n' then
      return false
    end
  end
  return true
end

--- Applies whole-line edits to a loaded buffer, last first, each as one `nvim_buf_set_lines`.
---@param bufnr integer
---@param edits table[]
local function apply_lines(bufnr, edits)
  local sorted = {}
  for i, e in ipairs(edits) do
    sorted[i] = { e = e, i = i }
  end
  table.sort(sorted, function(a, b)
    local la, lb = a.e.range.start.line, b.e.range.start.line
    if la ~= lb then
      return la > lb
    end
    return a.i > b.i
  end)
  for _, item in ipairs(sorted) do
    local e = item.e
    local count = vim.api.nvim_buf_line_count(bufnr)
    -- An empty file is one empty line in Neovim: it has no lines to keep.
    local empty = count == 1 and vim.api.nvim_buf_get_lines(bufnr, 0, 1, false)[1] == ''
    local text = e.newText:gsub('\r\n?', '\n')
    local lines = text == '' and {} or vim.split(text:sub(1, -2), '\n', { plain = true })
    if empty then
      vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, #lines > 0 and lines or { '' })
    else
      local s = math.min(e.range.start.line, count)
      local stop = math.min(e.range['end'].line, count)
      if s == 0 and stop >= count and #lines == 0 then
        -- Deleting every line leaves Neovim's one empty line.
        vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, {})
      else
        vim.api.nvim_buf_set_lines(bufnr, s, stop, false, lines)
      end
    end
  end
end

--- The bytes Neovim would write for a buffer, when that is simply its lines (utf-8, unix).
---@param bufnr integer
---@return string?
local function buffer_bytes(bufnr)
  local bo = vim.bo[bufnr]
  if
    bo.fileformat ~= 'unix'
    or (bo.fileencoding ~= '' and bo.fileencoding ~= 'utf-8')
    or bo.bomb
  then
    return nil
  end
  local text = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n')
  if bo.eol or (bo.fixeol and not bo.binary) then
    text = text .. '\n'
  end
  return text
end

--- The backend writes the disk after a decision when the buffer had no unsaved edits. Once
--- the disk holds the buffer's text, the buffer is marked unmodified and its timestamp is
--- refreshed (`:checktime` is silent when the contents are equal), so Neovim neither shows
--- `[+]` nor warns that the file changed.
---@param bufnr integer
function M.settle(bufnr)
  local delays = { 30, 100, 300, 1000, 3000 }
  local function try(i)
    if not vim.api.nvim_buf_is_valid(bufnr) or not vim.bo[bufnr].modified then
      return
    end
    local bytes = buffer_bytes(bufnr)
    local fd = bytes and io.open(vim.api.nvim_buf_get_name(bufnr), 'rb')
    local disk = fd and fd:read('*a')
    if fd then
      fd:close()
    end
    if bytes and disk == bytes then
      vim.bo[bufnr].modified = false
      vim.api.nvim_buf_call(bufnr, function()
        vim.cmd('silent! checktime ' .. bufnr)
      end)
      return
    end
    if delays[i + 1] then
      vim.defer_fn(function()
        try(i + 1)
      end, delays[i + 1] - delays[i])
    end
  end
  vim.defer_fn(function()
    try(1)
  end, delays[1])
end

--- The `workspace/applyEdit` handler of Tandem clients.
---@param params table ApplyWorkspaceEditParams
---@param ctx table
---@return table ApplyWorkspaceEditResult
function M.handler(_, params, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local edit = params and params.edit or {}
  local docs = {}
  local simple = client ~= nil
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.kind then
      simple = false -- create, rename or delete: Neovim's own code does those
    else
      table.insert(docs, {
        uri = change.textDocument.uri,
        version = change.textDocument.version,
        edits = change.edits,
      })
    end
  end
  for uri, edits in pairs(edit.changes or {}) do
    table.insert(docs, { uri = uri, edits = edits })
  end
  for _, doc in ipairs(docs) do
    simple = simple and whole_lines(doc.edits)
  end
  if not simple then
    local ok, err =
      pcall(vim.lsp.util.apply_workspace_edit, edit, client and client.offset_encoding or 'utf-16')
    return { applied = ok, failureReason = not ok and tostring(err) or nil }
  end

  -- Check every document before touching any, so a refused edit changes nothing.
  for _, doc in ipairs(docs) do
    doc.bufnr = vim.uri_to_bufnr(doc.uri)
    if not vim.api.nvim_buf_is_loaded(doc.bufnr) then
      vim.fn.bufload(doc.bufnr)
    end
    local version = doc.version
    if type(version) == 'number' and version > 0 then
      local current = vim.lsp.util.buf_versions[doc.bufnr] or 0
      if current ~= version then
        return {
          applied = false,
          failureReason = string.format(
            '%s changed since (version %d, the edit is for %d)',
            vim.fn.fnamemodify(vim.uri_to_fname(doc.uri), ':~:.'),
            current,
            version
          ),
        }
      end
    end
  end
  for _, doc in ipairs(docs) do
    local was_clean = not vim.bo[doc.bufnr].modified
    local ok, err = pcall(apply_lines, doc.bufnr, doc.edits)
    if not ok then
      return { applied = false, failureReason = tostring(err) }
    end
    vim.bo[doc.bufnr].buflisted = true
    if was_clean then
      M.settle(doc.bufnr)
    end
  end
  return { applied = true }
end

return M
