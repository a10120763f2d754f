-- Small helpers shared by the modules: Neovim version shims, positions, timers, messages.
local M = {}

local has_011 = vim.fn.has('nvim-0.11') == 1

--- Sends a request; `client:request` on 0.11+, the dot form on 0.10.
---@param client vim.lsp.Client
---@param method string
---@param params table
---@param handler fun(err: table?, result: any, ctx: table)
---@param bufnr integer?
---@return boolean ok
function M.request(client, method, params, handler, bufnr)
  if has_011 then
    return (client:request(method, params, handler, bufnr))
  end
  ---@diagnostic disable-next-line: param-type-mismatch
  return (client.request(method, params, handler, bufnr))
end

--- Sends a notification; `client:notify` on 0.11+, the dot form on 0.10.
---@param client vim.lsp.Client
---@param method string
---@param params table
function M.notify_server(client, method, params)
  if has_011 then
    return client:notify(method, params)
  end
  ---@diagnostic disable-next-line: param-type-mismatch
  return client.notify(method, params)
end

---@param client vim.lsp.Client
---@return boolean
function M.is_stopped(client)
  if has_011 then
    return client:is_stopped()
  end
  ---@diagnostic disable-next-line: missing-parameter
  return client.is_stopped()
end

--- The column of byte `col` of `line` in `encoding` units.
---@param line string
---@param col integer byte offset
---@param encoding string 'utf-8' | 'utf-16' | 'utf-32'
---@return integer
function M.byte_to_unit(line, col, encoding)
  col = math.max(0, math.min(col, #line))
  if encoding == 'utf-8' then
    return col
  end
  if has_011 then
    return vim.str_utfindex(line, encoding, col, false)
  end
  local ok, u32, u16 = pcall(vim.str_utfindex, line, col)
  if not ok then
    return col
  end
  return encoding == 'utf-16' and u16 or u32
end

--- The byte offset of column `index` (in `encoding` units) of `line`; past the end means the end.
---@param line string
---@param index integer
---@param encoding string
---@return integer
function M.unit_to_byte(line, index, encoding)
  if encoding == 'utf-8' then
    return math.max(0, math.min(index, #line))
  end
  if has_011 then
    local ok, byte = pcall(vim.str_byteindex, line, encoding, index, false)
    return ok and byte or #line
  end
  local ok, byte = pcall(vim.str_byteindex, line, index, encoding == 'utf-16')
  return ok and byte or #line
end

--- An LSP position for a (0-based row, byte column) of a buffer.
---@param bufnr integer
---@param row integer
---@param col integer
---@param encoding string
---@return {line: integer, character: integer}
function M.lsp_position(bufnr, row, col, encoding)
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  return { line = row, character = M.byte_to_unit(line, col, encoding) }
end

--- A callable that runs `fn` once `ms` milliseconds after its last call. Never blocks.
---@param ms integer|fun(): integer
---@param fn function
---@return fun(...), fun() call, cancel
function M.debounce(ms, fn)
  local timer = nil ---@type uv.uv_timer_t?
  local args = {}
  local function cancel()
    if timer then
      timer:stop()
      if not timer:is_closing() then
        timer:close()
      end
      timer = nil
    end
  end
  local function call(...)
    args = { n = select('#', ...), ... }
    cancel()
    timer = assert(vim.uv.new_timer())
    local delay = type(ms) == 'function' and ms() or ms
    timer:start(
      delay --[[@as integer]],
      0,
      vim.schedule_wrap(function()
        cancel()
        fn(unpack(args, 1, args.n))
      end)
    )
  end
  return call, cancel
end

--- A callable that runs `fn` at most once every `ms` milliseconds, on the main loop.
---@param ms integer
---@param fn function
---@return fun()
function M.throttle(ms, fn)
  local pending = false
  return function()
    if pending then
      return
    end
    pending = true
    vim.defer_fn(function()
      pending = false
      fn()
    end, ms)
  end
end

--- Tells the user something, prefixed with the plugin's name. Safe in fast events.
---@param msg string
---@param level integer? vim.log.levels
function M.notify(msg, level)
  level = level or vim.log.levels.INFO
  local function send()
    vim.notify('Tandem: ' .. msg, level, { title = 'Tandem' })
  end
  if vim.in_fast_event() then
    vim.schedule(send)
  else
    send()
  end
  require('tandem.log').log(level, msg)
end

local error_names = {
  [-32901] = 'the text under the hunk changed since it was proposed; it was not applied (reject it, or undo your edit)',
  [-32902] = 'no such change, hunk, task or thread (it may have been decided already)',
  [-32903] = 'the previous decision on this hunk is still being applied; try again in a moment',
  [-32904] = 'the turn cannot be undone: a file was edited under one of its hunks',
  [-32905] = 'the hunk was already accepted or rejected',
  [-32601] = 'the backend does not know this method (is `tandem` older than the plugin?)',
  [-32602] = 'the backend rejected the parameters',
}

--- A one-line, human explanation of a JSON-RPC error.
---@param err table|string|nil
---@return string
function M.error_message(err)
  if type(err) ~= 'table' then
    return tostring(err)
  end
  local known = error_names[err.code]
  local msg = err.message
  if known and msg and msg ~= '' then
    return known .. ' (' .. msg .. ')'
  end
  return known or msg or vim.inspect(err)
end

--- The file name of a `file://` URI, or the URI itself.
---@param uri string
---@return string
function M.uri_to_fname(uri)
  local ok, fname = pcall(vim.uri_to_fname, uri)
  return ok and fname or uri
end

--- A short path for display: relative to the cwd or to $HOME.
---@param path string
---@return string
function M.short_path(path)
  return vim.fn.fnamemodify(path, ':~:.')
end

--- A path relative to a workspace root when inside it, else a short path.
---@param path string
---@param root string?
---@return string
function M.rel_path(path, root)
  if root and M.is_inside(path, root) and path ~= root then
    return path:sub(#root:gsub('/+$', '') + 2)
  end
  return M.short_path(path)
end

--- Splits text into lines; a final newline does not make an extra empty line.
---@param text string
---@return string[]
function M.lines(text)
  if text == '' then
    return {}
  end
  local lines = vim.split(text, '\r?\n')
  if lines[#lines] == '' then
    table.remove(lines)
  end
  return lines
end

--- Whether a buffer is a regular file buffer the backend should know about.
---@param bufnr integer
---@return boolean
function M.is_file_buffer(bufnr)
  if not vim.api.nvim_buf_is_valid(bufnr) or not vim.api.nvim_buf_is_loaded(bufnr) then
    return false
  end
  if vim.bo[bufnr].buftype ~= '' then
    return false
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  return name ~= '' and not name:match('^%a[%w+.-]*://')
end

--- Where `vim.lsp` logs (the backend's stderr goes there).
---@return string
function M.lsp_log_path()
  local ok, log = pcall(require, 'vim.lsp.log')
  if ok and log.get_filename then
    return log.get_filename()
  end
  return vim.lsp.get_log_path()
end

--- Whether `path` is `root` or inside it.
---@param path string
---@param root string
---@return boolean
function M.is_inside(path, root)
  root = root:gsub('/+$', '')
  return path == root or path:sub(1, #root + 1) == root .. '/'
end

return M
