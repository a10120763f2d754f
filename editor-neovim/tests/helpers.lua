-- Test helpers: assertions, waiting, a real workspace with the scripted model, UI stubs.
local H = {}

local tests_dir = vim.fs.dirname(vim.fs.normalize(debug.getinfo(1, 'S').source:sub(2)))
H.plugin_dir = vim.fs.dirname(tests_dir)
H.repo = vim.fs.dirname(H.plugin_dir)
H.fixtures = tests_dir .. '/fixtures'

H.tandem = vim.env.TANDEM_BIN or (H.repo .. '/target/debug/tandem')
H.scripted_model = vim.env.TANDEM_SCRIPTED_MODEL
  or (H.repo .. '/target/debug/tandem-scripted-model')

local cleanups = {} ---@type fun()[]
local finals = {} ---@type fun()[]
--- Every vim.notify call since the test started: {msg, level}.
H.notes = {}
local real_notify = vim.notify
local real_select = vim.ui.select
local real_input = vim.ui.input

vim.notify = function(msg, level, opts)
  table.insert(H.notes, { msg = tostring(msg), level = level or vim.log.levels.INFO })
  if vim.env.TANDEM_TEST_VERBOSE then
    real_notify(msg, level, opts)
  end
end

--- Registers `fn` to run after the current test.
function H.defer(fn)
  table.insert(cleanups, fn)
end

--- Runs the registered cleanups (the runner calls this after each test).
function H.after_each()
  local errors = {}
  for i = #cleanups, 1, -1 do
    local ok, err = pcall(cleanups[i])
    if not ok then
      table.insert(errors, tostring(err))
    end
  end
  cleanups = {}
  H.notes = {}
  vim.ui.select = real_select
  vim.ui.input = real_input
  if #errors > 0 then
    error(table.concat(errors, '\n'))
  end
end

--- Runs once at the very end (stops what is shared by the tests of a file).
function H.finish()
  for i = #finals, 1, -1 do
    pcall(finals[i])
  end
end

-- Assertions --------------------------------------------------------------------------------

function H.eq(expected, actual, what)
  if not vim.deep_equal(expected, actual) then
    error(
      string.format(
        '%s\nexpected: %s\n     got: %s',
        what or 'values differ',
        vim.inspect(expected),
        vim.inspect(actual)
      ),
      2
    )
  end
end

function H.ok(cond, what)
  if not cond then
    error(what or 'assertion failed', 2)
  end
  return cond
end

function H.contains(haystack, needle, what)
  if type(haystack) == 'table' then
    haystack = table.concat(haystack, '\n')
  end
  if not tostring(haystack):find(needle, 1, true) then
    error(
      string.format('%s\nexpected to find: %s\nin:\n%s', what or 'text not found', needle, haystack),
      2
    )
  end
end

--- Waits (running the event loop) until `cond()` is truthy; fails with `what` and `detail()`.
---@param cond fun(): any
---@param what string
---@param ms integer?
---@param detail (fun(): string)?
function H.wait(cond, what, ms, detail)
  local value
  local ok = vim.wait(ms or 15000, function()
    value = cond()
    return value
  end, 20)
  if not ok then
    error(string.format('timed out: %s%s', what, detail and ('\n' .. detail()) or ''), 2)
  end
  return value
end

--- The notifications so far, one per line.
function H.notes_text()
  local lines = {}
  for _, n in ipairs(H.notes) do
    table.insert(lines, string.format('[%d] %s', n.level, n.msg))
  end
  return table.concat(lines, '\n')
end

--- Waits for a notification containing `needle`; returns it.
function H.wait_note(needle, what, ms)
  return H.wait(function()
    for _, n in ipairs(H.notes) do
      if n.msg:find(needle, 1, true) then
        return n
      end
    end
  end, what or ('a notification with ' .. needle), ms, H.notes_text)
end

local function tail(path, n)
  local fd = io.open(path, 'r')
  if not fd then
    return ''
  end
  local lines = {}
  for line in fd:lines() do
    table.insert(lines, line)
  end
  fd:close()
  return table.concat(vim.list_slice(lines, math.max(1, #lines - n + 1)), '\n')
end

--- What helps to understand a failure: notifications and the ends of the logs.
function H.diagnostics()
  local parts = {}
  if #H.notes > 0 then
    table.insert(parts, 'notifications:\n' .. H.notes_text())
  end
  local lsp_log = tail(require('tandem.util').lsp_log_path(), 30)
  if lsp_log ~= '' then
    table.insert(parts, 'lsp.log (end):\n' .. lsp_log)
  end
  if H.model_log then
    local m = tail(H.model_log, 15)
    if m ~= '' then
      table.insert(parts, 'scripted model (end):\n' .. m)
    end
  end
  return table.concat(parts, '\n')
end

-- Environment -------------------------------------------------------------------------------

--- Fails clearly when the binaries the end-to-end tests need are missing.
function H.require_binaries()
  for _, bin in ipairs({ H.tandem, H.scripted_model }) do
    if vim.fn.executable(bin) == 0 then
      error(
        'missing binary ' .. bin .. ': run `cargo build -p tandem-cli -p tandem-scripted-model`',
        0
      )
    end
  end
end

local function tempdir(prefix)
  local dir = vim.fn.tempname() .. '-' .. prefix
  vim.fn.mkdir(dir, 'p')
  return vim.fs.normalize(vim.uv.fs_realpath(dir) or dir)
end

---@class tandem.test.Env
---@field work string the workspace (a copy of fixtures/repos/calc)
---@field home string TANDEM_HOME
---@field url string the scripted model's base URL
---@field file fun(rel: string): string
---@field read fun(rel: string): string

--- A workspace with the calc fixture, a TANDEM_HOME whose config points at a scripted model
--- replaying `scenario` (a file name in tests/fixtures/scenarios or fixtures/scenarios).
---@param scenario string
---@param opts {config: string?}?
---@return tandem.test.Env
function H.env(scenario, opts)
  opts = opts or {}
  H.require_binaries()
  local path = H.fixtures .. '/scenarios/' .. scenario
  if vim.fn.filereadable(path) == 0 then
    path = H.repo .. '/fixtures/scenarios/' .. scenario
  end
  local work = tempdir('work')
  local home = tempdir('home')
  local res = vim.system({ 'cp', '-R', H.repo .. '/fixtures/repos/calc/.', work }):wait()
  assert(res.code == 0, 'copying the fixture failed: ' .. tostring(res.stderr))

  H.model_log = home .. '/scripted-model.log'
  local url
  local log = assert(io.open(H.model_log, 'w'))
  local proc = vim.system({ H.scripted_model, '--scenario', path }, {
    stdout = function(_, data)
      if data and not url then
        url = data:match('listening on (%S+)')
      end
    end,
    stderr = function(_, data)
      if data then
        log:write(data)
        log:flush()
      end
    end,
  })
  H.defer(function()
    proc:kill(9)
    log:close()
  end)
  H.wait(function()
    return url
  end, 'the scripted model to listen', 10000)

  local config = table.concat({
    opts.config or '',
    'model = "scripted-model"',
    'model_provider = "scripted"',
    '',
    '[model_providers.scripted]',
    'name = "Scripted"',
    'base_url = "' .. url .. '"',
    'wire_api = "responses"',
    'request_max_retries = 1',
    '',
  }, '\n')
  local fd = assert(io.open(home .. '/config.toml', 'w'))
  fd:write(config)
  fd:close()

  local env = { work = work, home = home, url = url }
  function env.file(rel)
    return work .. '/' .. rel
  end
  function env.read(rel)
    local f = assert(io.open(work .. '/' .. rel, 'r'))
    local text = f:read('*a')
    f:close()
    return text
  end
  return env
end

--- `setup()` pointed at the real backend and the env's TANDEM_HOME, plus `opts`.
---@param env tandem.test.Env?
---@param opts table?
function H.setup(env, opts)
  local base = {
    cmd = { H.tandem, 'lsp' },
    cmd_env = env and { TANDEM_HOME = env.home, RUST_LOG = 'warn' } or {},
    log = { level = 'debug', file = vim.fn.stdpath('log') .. '/tandem-test.log' },
  }
  local ok = require('tandem').setup(vim.tbl_deep_extend('force', base, opts or {}))
  H.defer(H.stop_all)
  return ok
end

--- Stops every Tandem backend and forgets the plugin's state, so tests do not leak.
function H.stop_all()
  local lsp = require('tandem.lsp')
  for root in pairs(lsp.backends) do
    lsp.stop(root)
  end
  vim.wait(5000, function()
    return #vim.lsp.get_clients({ name = 'tandem' }) == 0
  end, 20)
  for _, c in ipairs(vim.lsp.get_clients({ name = 'tandem' })) do
    c:stop(true)
  end
  vim.wait(2000, function()
    return #vim.lsp.get_clients({ name = 'tandem' }) == 0
  end, 20)
  lsp.backends = {}
  require('tandem.review').roots = {}
  require('tandem.tasks').tasks = {}
  require('tandem.tasks').order = {}
  require('tandem.approvals').queue = {}
  vim.cmd('silent! only')
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    pcall(vim.api.nvim_buf_delete, buf, { force = true })
  end
end

--- Opens a file of the env and waits until the backend is attached to it.
---@param env tandem.test.Env
---@param rel string
---@return integer bufnr
---@return vim.lsp.Client client
function H.open(env, rel)
  vim.cmd.edit(vim.fn.fnameescape(env.file(rel)))
  local buf = vim.api.nvim_get_current_buf()
  local client = H.wait(function()
    local c = vim.lsp.get_clients({ name = 'tandem', bufnr = buf })[1]
    return c and c.initialized and c
  end, 'the backend to attach to ' .. rel, 15000, H.diagnostics)
  return buf, client
end

--- Replaces vim.ui.select for the rest of the test; `choose(items, opts)` returns the pick.
---@param choose fun(items: any[], opts: table): any
---@return table[] calls every {items, opts} it was called with
function H.stub_select(choose)
  local calls = {}
  vim.ui.select = function(items, opts, on_choice)
    table.insert(calls, { items = items, opts = opts })
    local pick = choose(items, opts)
    local idx
    for i, item in ipairs(items) do
      if item == pick then
        idx = i
      end
    end
    vim.schedule(function()
      on_choice(pick, idx)
    end)
  end
  return calls
end

--- The text of a buffer.
function H.lines(buf)
  return vim.api.nvim_buf_get_lines(buf or 0, 0, -1, false)
end

--- The task with the given backend id (the first one when nil).
function H.task(id)
  for _, t in pairs(require('tandem.tasks').tasks) do
    if not id or t.id == id then
      return t
    end
  end
end

--- Extmarks of the review namespace in a buffer, with details.
function H.review_marks(buf)
  local ns = require('tandem.review').ns
  return vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })
end

--- The pid of the running backend (a child of this Neovim).
function H.backend_pid()
  for _, pid in ipairs(vim.api.nvim_get_proc_children(vim.fn.getpid())) do
    local info = vim.api.nvim_get_proc(pid)
    if info and info.name == 'tandem' then
      return pid
    end
  end
end

return H
