-- The backend: one `tandem lsp` client per workspace root, started with the built-in `vim.lsp`.
local config = require('tandem.config')
local log = require('tandem.log')
local util = require('tandem.util')

local M = {}

--- The client name; also how other plugins can find our clients.
M.NAME = 'tandem'
--- The protocol version this plugin speaks (`experimental.tandem.protocolVersion`).
M.PROTOCOL_VERSION = 1

local has_011 = vim.fn.has('nvim-0.11') == 1

---@alias tandem.BackendState 'starting'|'running'|'stopped'|'crashed'|'missing'|'failed'

---@class tandem.Backend
---@field root string
---@field client_id integer?
---@field state tandem.BackendState
---@field exit_code integer?
---@field signal integer?
---@field stopping boolean Set before we stop it, so the exit is not reported as a crash.
---@field stopped_by_user boolean? Stopped on request: opening a file does not start it again.
---@field protocol integer? The server's protocolVersion.
---@field extensions boolean Whether the custom methods may be used (the versions match).
---@field waiters fun(client: vim.lsp.Client)[] Run once the client is initialized.
---@field on_stopped fun()? Run once the client has exited.

---@type table<string, tandem.Backend>
M.backends = {}

--- Set on VimLeavePre: clients stopping then are not crashes.
M.exiting = false

--- The workspace root of a buffer, from the root markers; nil outside any workspace.
---@param bufnr integer?
---@return string?
function M.root_for(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if not vim.api.nvim_buf_is_valid(bufnr) then
    return nil
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' or name:match('^%a[%w+.-]*://') then
    return nil
  end
  local root = vim.fs.root(bufnr, config.options.root_markers)
  return root and vim.fs.normalize(root) or nil
end

--- The root the user means now: the current buffer's, else the one running backend's, else the
--- current directory.
---@return string
function M.current_root()
  local buf = vim.api.nvim_get_current_buf()
  local from_buf = vim.b[buf].tandem_root or M.root_for(buf)
  if from_buf then
    return from_buf
  end
  local running = {}
  for root, b in pairs(M.backends) do
    if b.state == 'running' or b.state == 'starting' then
      table.insert(running, root)
    end
  end
  if #running == 1 then
    return running[1]
  end
  return vim.fs.normalize(vim.fn.getcwd())
end

--- The backend that owns a client id.
---@param client_id integer
---@return tandem.Backend?
function M.backend_of_client(client_id)
  for _, b in pairs(M.backends) do
    if b.client_id == client_id then
      return b
    end
  end
  return nil
end

--- The live client of a root, if it is initialized.
---@param root string?
---@return vim.lsp.Client?
function M.client(root)
  local b = M.backends[root or M.current_root()]
  if not b or not b.client_id then
    return nil
  end
  local client = vim.lsp.get_client_by_id(b.client_id)
  if not client or util.is_stopped(client) or not client.initialized then
    return nil
  end
  return client
end

--- What the plugin announces in `initialize`.
---@return table
function M.capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.general = caps.general or {}
  -- UTF-8 first: the backend then counts bytes, as Neovim does.
  caps.general.positionEncodings = { 'utf-8', 'utf-16' }
  -- Versioned edits: our applyEdit handler refuses one made against an older buffer.
  caps.workspace = caps.workspace or {}
  caps.workspace.workspaceEdit = caps.workspace.workspaceEdit or {}
  caps.workspace.workspaceEdit.documentChanges = true
  caps.experimental = caps.experimental or {}
  caps.experimental.tandem = {
    protocolVersion = M.PROTOCOL_VERSION,
    approvalRequest = true,
    reviewChanged = true,
    taskEvents = true,
  }
  return caps
end

local function handlers()
  return {
    ['tandem/task/event'] = function(_, params, ctx)
      require('tandem.tasks').on_event(ctx.client_id, params)
    end,
    ['tandem/review/changed'] = function(_, params, ctx)
      require('tandem.review').on_changed(ctx.client_id, params)
    end,
    ['tandem/approval/request'] = function(_, params, ctx)
      return require('tandem.approvals').on_request(ctx.client_id, params)
    end,
    ['workspace/applyEdit'] = function(err, params, ctx)
      return require('tandem.edit').handler(err, params, ctx)
    end,
  }
end

--- Attaches every loaded file buffer under the root to its client.
---@param b tandem.Backend
local function attach_buffers(b)
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if util.is_file_buffer(buf) and util.is_inside(vim.api.nvim_buf_get_name(buf), b.root) then
      if not vim.lsp.buf_is_attached(buf, b.client_id) then
        vim.lsp.buf_attach_client(buf, b.client_id)
      end
      vim.b[buf].tandem_root = b.root
    end
  end
end

---@param b tandem.Backend
---@param client vim.lsp.Client
---@param result table InitializeResult
local function on_init(b, client, result)
  local caps = result and result.capabilities or {}
  local ext = caps.experimental and caps.experimental.tandem
  b.protocol = ext and ext.protocolVersion or nil
  b.extensions = b.protocol == M.PROTOCOL_VERSION
  b.state = 'running'
  if not b.extensions then
    util.notify(
      string.format(
        'the backend at %s speaks Tandem protocol %s, this plugin speaks %d: tasks, review and'
          .. ' Auto Context are off (code actions still work). Update the plugin and `tandem` together.',
        table.concat(config.options.cmd, ' '),
        b.protocol and tostring(b.protocol) or '(none)',
        M.PROTOCOL_VERSION
      ),
      vim.log.levels.WARN
    )
  end
  log.info('backend initialized', { root = b.root, protocol = b.protocol, id = client.id })
  vim.schedule(function()
    attach_buffers(b)
    if b.extensions then
      require('tandem.review').refresh(b.root)
      require('tandem.focus').send_now()
    end
    local waiters = b.waiters
    b.waiters = {}
    for _, fn in ipairs(waiters) do
      local ok, err = pcall(fn, client)
      if not ok then
        log.error('waiter failed', err)
      end
    end
    vim.cmd('redrawstatus')
  end)
end

---@param b tandem.Backend
---@param client_id integer
---@param code integer
---@param signal integer
local function on_exit(b, client_id, code, signal)
  if b.client_id ~= client_id then
    return
  end
  b.exit_code, b.signal = code, signal
  local expected = b.stopping or M.exiting
  b.state = expected and 'stopped' or 'crashed'
  b.client_id = nil
  b.waiters = {}
  log.info('backend exited', { root = b.root, code = code, signal = signal, expected = expected })
  require('tandem.tasks').on_backend_lost(client_id, expected)
  require('tandem.approvals').on_backend_lost(client_id)
  require('tandem.review').on_backend_lost(b.root, expected)
  if not expected then
    util.notify(
      string.format(
        'the backend for %s stopped unexpectedly (%s). Pending reviews stay on screen;'
          .. ' run :Tandem restart to start it again, and see %s or :checkhealth tandem.',
        util.short_path(b.root),
        signal ~= 0 and ('signal ' .. signal) or ('exit code ' .. code),
        require('tandem.util').lsp_log_path()
      ),
      vim.log.levels.ERROR
    )
  end
  local cb = b.on_stopped
  b.on_stopped = nil
  b.stopping = false
  if cb then
    cb()
  end
  vim.cmd('redrawstatus')
end

--- Explains a missing backend command, once per call.
local function report_missing()
  local cmd = config.options.cmd
  util.notify(
    string.format(
      'the backend command `%s` was not found (cmd = %s). Install Tandem (`cargo install --path'
        .. ' backend/cli` in its repository, or put its target/release on $PATH) or set `cmd` in'
        .. " require('tandem').setup(), then run :Tandem restart.",
      cmd[1],
      vim.inspect(cmd)
    ),
    vim.log.levels.ERROR
  )
end

--- The backend's settings (`initializationOptions`), from the plugin's options. Unset ones
--- are left out, so the backend's config.toml decides them.
---@return table
function M.settings()
  local o = config.options
  local settings = {
    autoContext = o.context.enabled,
    contextDenyGlobs = o.context.deny_globs,
    contextBudgetTokens = o.context.budget_tokens,
    sandboxMode = o.task.sandbox_mode,
    approvalPolicy = o.task.approval_policy,
    model = o.task.model,
    profile = o.task.profile,
    reviewModel = o.review.model,
    approvalTimeoutSeconds = o.approvals.timeout_seconds,
  }
  if #settings.contextDenyGlobs == 0 then
    settings.contextDenyGlobs = nil
  end
  return settings
end

--- Starts the backend for `root` unless it runs already. Returns its client id.
---@param root string
---@return integer? client_id
function M.start(root)
  require('tandem').ensure_setup()
  local b = M.backends[root]
  if b and b.client_id and (b.state == 'running' or b.state == 'starting') then
    return b.client_id
  end
  b = b
    or {
      root = root,
      state = 'stopped',
      stopping = false,
      extensions = false,
      waiters = {},
    }
  M.backends[root] = b
  local cmd = config.options.cmd
  if vim.fn.executable(cmd[1]) == 0 then
    b.state = 'missing'
    report_missing()
    return nil
  end
  local init_options = M.settings()
  ---@type vim.lsp.ClientConfig
  local client_config = {
    name = M.NAME,
    cmd = cmd,
    cmd_cwd = root,
    cmd_env = config.options.cmd_env,
    root_dir = root,
    workspace_folders = {
      { uri = vim.uri_from_fname(root), name = vim.fs.basename(root) },
    },
    capabilities = M.capabilities(),
    init_options = init_options,
    handlers = handlers(),
    -- Send every change at once: hunk ranges from the backend then always refer to the text
    -- the buffer holds, and decisions never race a pending didChange.
    flags = { debounce_text_changes = 0 },
    on_init = function(client, result)
      on_init(b, client, result)
    end,
    on_exit = function(code, signal, client_id)
      vim.schedule(function()
        on_exit(b, client_id, code, signal)
      end)
    end,
  }
  b.state = 'starting'
  b.stopping = false
  b.stopped_by_user = false
  local ok, id
  if has_011 then
    ok, id = pcall(vim.lsp.start, client_config, {
      attach = false,
      silent = true,
      reuse_client = function(client, conf)
        return client.name == conf.name
          and client.root_dir == conf.root_dir
          and not util.is_stopped(client)
      end,
    })
  else
    ---@diagnostic disable-next-line: deprecated
    ok, id = pcall(vim.lsp.start_client, client_config)
  end
  if not ok or not id then
    b.state = 'failed'
    util.notify(
      string.format(
        'could not start the backend `%s` for %s: %s. See :checkhealth tandem.',
        table.concat(cmd, ' '),
        util.short_path(root),
        ok and 'vim.lsp refused the configuration' or tostring(id)
      ),
      vim.log.levels.ERROR
    )
    return nil
  end
  b.client_id = id
  log.info('backend starting', { root = root, id = id, cmd = cmd })
  return id
end

--- Runs `fn(client)` with the root's initialized client, starting the backend if needed.
--- Does nothing (after telling the user why) when the backend cannot start.
---@param root string?
---@param fn fun(client: vim.lsp.Client)
function M.with_client(root, fn)
  root = root or M.current_root()
  local client = M.client(root)
  if client then
    local b = M.backends[root]
    if b and not b.extensions then
      util.notify('the backend does not speak this protocol version; see :checkhealth tandem')
      return
    end
    return fn(client)
  end
  local id = M.start(root)
  if not id then
    return
  end
  table.insert(M.backends[root].waiters, function(c)
    if M.backends[root].extensions then
      fn(c)
    end
  end)
end

--- Sends a request to the root's backend; `cb(err, result, client)`.
---@param method string
---@param params table
---@param cb fun(err: table?, result: any, client: vim.lsp.Client)
---@param opts {root: string?, bufnr: integer?}?
function M.request(method, params, cb, opts)
  opts = opts or {}
  M.with_client(opts.root, function(client)
    local ok = util.request(client, method, params, function(err, result)
      cb(err, result, client)
    end, opts.bufnr)
    if not ok then
      cb({ code = -32603, message = 'the backend is not running' }, nil, client)
    end
  end)
end

--- Attaches a file buffer to its root's backend, starting it when `autostart` is on.
---@param bufnr integer
function M.attach(bufnr)
  if not util.is_file_buffer(bufnr) then
    return
  end
  local root = M.root_for(bufnr)
  if not root then
    return
  end
  vim.b[bufnr].tandem_root = root
  local b = M.backends[root]
  if b and b.client_id and (b.state == 'running' or b.state == 'starting') then
    if b.state == 'running' and not vim.lsp.buf_is_attached(bufnr, b.client_id) then
      vim.lsp.buf_attach_client(bufnr, b.client_id)
    end
    return
  end
  -- A backend that crashed, is missing or was stopped by the user starts only on request.
  if config.options.autostart and not (b and (b.state ~= 'stopped' or b.stopped_by_user)) then
    M.start(root)
  end
end

--- Stops the root's backend; `cb` runs once it has exited.
---@param root string
---@param cb fun()?
function M.stop(root, cb)
  local b = M.backends[root]
  local client = b and b.client_id and vim.lsp.get_client_by_id(b.client_id)
  if not b or not client then
    if cb then
      cb()
    end
    return
  end
  b.stopping = true
  b.stopped_by_user = true
  b.on_stopped = cb
  if has_011 then
    client:stop()
  else
    ---@diagnostic disable-next-line: missing-parameter
    client.stop()
  end
  -- A backend that ignores shutdown is killed after a grace period.
  vim.defer_fn(function()
    if b.stopping and b.client_id == client.id and not util.is_stopped(client) then
      if has_011 then
        client:stop(true)
      else
        client.stop(true)
      end
    end
  end, 3000)
end

--- Restarts the root's backend. Pending hunks the running backend holds would be lost, so the
--- user is asked first; after a crash nothing is lost that was not lost already, and the new
--- backend's reviews are fetched and drawn.
---@param root string?
function M.restart(root)
  root = root or M.current_root()
  local b = M.backends[root]
  local client = b and b.client_id and vim.lsp.get_client_by_id(b.client_id)
  local function start()
    if M.start(root) then
      util.notify('restarting the backend for ' .. util.short_path(root))
      table.insert(M.backends[root].waiters, function()
        util.notify('the backend for ' .. util.short_path(root) .. ' is running again')
      end)
    end
  end
  if not client or util.is_stopped(client) then
    return start()
  end
  local pending = require('tandem.review').count(root)
  if pending == 0 then
    return M.stop(root, start)
  end
  vim.ui.select({ 'Restart and discard them', 'Keep the backend running' }, {
    prompt = string.format(
      'The backend holds %d pending hunk%s; a restart discards them.',
      pending,
      pending == 1 and '' or 's'
    ),
  }, function(_, idx)
    if idx == 1 then
      M.stop(root, start)
    end
  end)
end

return M
