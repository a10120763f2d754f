-- `:checkhealth tandem`: Neovim, the backend and its handshake, the sandbox, the model provider.
local M = {}

local health = vim.health

--- Runs argv, waits at most `ms`; returns the exit code and output (nil when it did not start).
local function run(argv, ms, stdin)
  local ok, obj = pcall(vim.system, argv, { text = true, stdin = stdin })
  if not ok then
    return nil, tostring(obj)
  end
  local res = obj:wait(ms)
  return res.code, res.stdout or '', res.stderr or ''
end

--- Frames a JSON-RPC message the way LSP does.
local function frame(msg)
  local body = vim.json.encode(msg)
  return string.format('Content-Length: %d\r\n\r\n%s', #body, body)
end

--- The JSON-RPC messages in `out` (LSP framing).
local function messages(out)
  local found = {}
  local pos = 1
  while true do
    local s, e, len = out:find('Content%-Length: (%d+)\r\n\r\n', pos)
    if not s or #out < e + tonumber(len) then
      break
    end
    local ok, msg = pcall(vim.json.decode, out:sub(e + 1, e + tonumber(len)))
    if ok and type(msg) == 'table' then
      table.insert(found, msg)
    end
    pos = e + tonumber(len) + 1
  end
  return found
end

--- Starts a throwaway backend, sends `initialize`, reads the answer, then `shutdown` and
--- `exit`. Returns the InitializeResult (or nil and why).
---@param cmd string[]
---@param cwd string
---@return table? result
---@return string? problem
function M.handshake(cmd, cwd)
  local config = require('tandem.config')
  local out, err = '', ''
  local ok, obj = pcall(vim.system, cmd, {
    stdin = true,
    cwd = cwd,
    env = next(config.options.cmd_env) and config.options.cmd_env or nil,
    stdout = function(_, data)
      out = out .. (data or '')
    end,
    stderr = function(_, data)
      err = err .. (data or '')
    end,
  })
  if not ok then
    return nil, tostring(obj)
  end
  local function answer(id)
    for _, msg in ipairs(messages(out)) do
      if msg.id == id then
        return msg
      end
    end
  end
  obj:write(frame({
    jsonrpc = '2.0',
    id = 1,
    method = 'initialize',
    params = {
      processId = vim.NIL,
      rootUri = vim.uri_from_fname(cwd),
      capabilities = require('tandem.lsp').capabilities(),
    },
  }))
  vim.wait(10000, function()
    return answer(1) ~= nil or obj:is_closing()
  end, 20)
  local reply = answer(1)
  if reply then
    obj:write(frame({ jsonrpc = '2.0', method = 'initialized', params = vim.empty_dict() }))
    obj:write(frame({ jsonrpc = '2.0', id = 2, method = 'shutdown' }))
    vim.wait(3000, function()
      return answer(2) ~= nil or obj:is_closing()
    end, 20)
    obj:write(frame({ jsonrpc = '2.0', method = 'exit' }))
  end
  pcall(obj.write, obj, nil)
  local res = obj:wait(3000)
  if not reply then
    err = vim.trim(err)
    return nil,
      string.format(
        'no answer to initialize (exit code %s)%s',
        tostring(res.code),
        err ~= '' and (': ' .. err:sub(1, 400)) or ''
      )
  end
  if reply.error then
    return nil, 'initialize failed: ' .. vim.inspect(reply.error)
  end
  return reply.result, nil
end

local function check_neovim()
  health.start('Neovim')
  local v = vim.version()
  local version = string.format('%d.%d.%d', v.major, v.minor, v.patch)
  if vim.fn.has('nvim-0.10') == 1 then
    health.ok('Neovim ' .. version .. ' (0.10 or newer is needed)')
  else
    health.error('Neovim ' .. version .. ' is too old', 'Tandem needs Neovim 0.10 or newer')
  end
  health.info('plugin log: ' .. require('tandem.log').path())
  health.info('vim.lsp log (backend stderr): ' .. require('tandem.util').lsp_log_path())
end

---@return string? the backend's program path
local function check_backend()
  local config = require('tandem.config')
  local lsp = require('tandem.lsp')
  health.start('Backend')
  local cmd = config.options.cmd
  local exe = vim.fn.exepath(cmd[1])
  if exe == '' then
    health.error(string.format('`%s` not found (cmd = %s)', cmd[1], vim.inspect(cmd)), {
      'Build it: `cargo build --release -p tandem-cli` in the Tandem repository',
      'Put the binary on $PATH, or set `cmd` in require("tandem").setup({ cmd = { "/path/to/tandem", "lsp" } })',
    })
    return nil
  end
  health.ok(string.format('command: %s (%s)', table.concat(cmd, ' '), exe))
  local code, out = run({ exe, '--version' }, 5000)
  if code == 0 then
    health.ok('version: ' .. vim.trim(out))
  else
    health.warn('`' .. cmd[1] .. ' --version` failed: ' .. tostring(out))
  end

  local result, problem = M.handshake(cmd, lsp.current_root())
  if not result then
    health.error('handshake failed: ' .. problem, {
      'Check that `' .. table.concat(cmd, ' ') .. '` speaks LSP on stdio (`tandem lsp --help`)',
      'Its errors are in '
        .. require('tandem.util').lsp_log_path()
        .. ' once the plugin has started it',
    })
  else
    local ext = result.capabilities and result.capabilities.experimental
    ext = ext and ext.tandem
    local name = result.serverInfo
        and ((result.serverInfo.name or '?') .. ' ' .. (result.serverInfo.version or ''))
      or '(no serverInfo)'
    if not ext then
      health.error(
        'handshake: ' .. name .. ' does not announce `experimental.tandem`',
        'Is `cmd` really `tandem lsp`?'
      )
    elseif ext.protocolVersion ~= lsp.PROTOCOL_VERSION then
      health.error(
        string.format(
          'handshake: %s speaks protocol %s, the plugin %d',
          name,
          tostring(ext.protocolVersion),
          lsp.PROTOCOL_VERSION
        ),
        'Update the plugin and the backend together'
      )
    else
      health.ok(
        string.format(
          'handshake: %s, protocol %d, %d custom methods',
          vim.trim(name),
          ext.protocolVersion,
          #(ext.methods or {})
        )
      )
      local enc = result.capabilities.positionEncoding
      health.info('position encoding: ' .. tostring(enc or 'utf-16 (default)'))
    end
  end

  local any = false
  for root, b in pairs(lsp.backends) do
    any = true
    local line = string.format('%s: %s', vim.fn.fnamemodify(root, ':~'), b.state)
    if b.state == 'crashed' then
      health.warn(
        line
          .. string.format(' (exit code %s, signal %s)', tostring(b.exit_code), tostring(b.signal)),
        'Run :Tandem restart'
      )
    elseif b.state == 'missing' or b.state == 'failed' then
      health.warn(line, 'Fix the command above, then run :Tandem restart')
    else
      health.info(line)
    end
  end
  if not any then
    health.info(
      'no backend is running in this Neovim yet (it starts with the first file of a workspace)'
    )
  end
  return exe
end

local function check_sandbox(exe)
  health.start('Sandbox')
  if not exe then
    health.warn('skipped: no backend binary')
    return
  end
  local code, out, err = run({ exe, 'sandbox', '--probe' }, 10000)
  if code == nil then
    health.error('could not run `' .. exe .. ' sandbox --probe`: ' .. tostring(out))
    return
  end
  local ok, probe = pcall(vim.json.decode, (out or ''):match('%b{}') or '')
  if not ok or type(probe) ~= 'table' then
    health.error(
      string.format(
        '`tandem sandbox --probe` gave no JSON (exit code %d): %s',
        code,
        vim.trim(err or out or '')
      ),
      'Run it in a shell to see why'
    )
    return
  end
  local layers = {}
  local missing_layers = {}
  for _, key in ipairs({
    'user_namespace',
    'mount_namespace',
    'pid_namespace',
    'net_namespace',
    'ipc_namespace',
    'no_new_privs',
    'seccomp',
  }) do
    local layer = probe[key]
    if type(layer) == 'table' then
      if layer.ok then
        table.insert(layers, key)
      else
        table.insert(missing_layers, key .. ' (' .. tostring(layer.error) .. ')')
      end
    end
  end
  if type(probe.landlock) == 'table' then
    local status = tostring(probe.landlock.status or '?')
    if probe.landlock.abi and status ~= 'not_enforced' then
      table.insert(
        layers,
        string.format('landlock ABI %s (%s)', tostring(probe.landlock.abi), status)
      )
    else
      table.insert(missing_layers, 'landlock (' .. status .. ')')
    end
  end
  local enforcement = type(probe.enforcement) == 'table' and probe.enforcement.kind or '?'
  local summary =
    string.format('kernel %s: enforced %s', tostring(probe.kernel), table.concat(layers, ', '))
  if probe.full_sandbox_available then
    health.ok(summary)
    health.ok('enforcement for workspace-write: ' .. tostring(enforcement))
  elseif probe.landlock_only_fallback_available then
    health.warn(summary, 'Only the Landlock fallback is available')
    health.warn('enforcement: ' .. tostring(enforcement), probe.missing)
  else
    health.error(summary, probe.missing)
    health.error('enforcement: ' .. tostring(enforcement))
  end
  if #missing_layers > 0 then
    health.warn('not available: ' .. table.concat(missing_layers, ', '), probe.missing)
  end
end

--- Reads the few keys of config.toml that say which provider and key are used. It does not
--- replace the backend's resolution (profiles, `-c` overrides); it is a pointer for the user.
local function read_config(path)
  local fd = io.open(path, 'r')
  if not fd then
    return nil
  end
  local text = fd:read('*a')
  fd:close()
  local top, tables = {}, {}
  local current = top
  for line in text:gmatch('[^\n]+') do
    local header = line:match('^%s*%[([^%]]+)%]%s*$')
    if header then
      current = {}
      tables[vim.trim(header)] = current
    else
      local key, value = line:match('^%s*([%w_%-]+)%s*=%s*(.-)%s*$')
      if key then
        current[key] = value:match('^"(.*)"$') or value:match("^'(.*)'$") or value
      end
    end
  end
  return top, tables
end

local function check_provider()
  local config = require('tandem.config')
  health.start('Model provider')
  local home = config.options.cmd_env.TANDEM_HOME or vim.env.TANDEM_HOME
  home = home or vim.fs.joinpath(vim.env.HOME or '~', '.tandem')
  local path = vim.fs.joinpath(home, 'config.toml')
  local top, tables = read_config(path)
  if not top then
    health.info(path .. ' does not exist: the built-in `openai` provider is used')
    top, tables = {}, {}
  else
    health.ok('config: ' .. path)
  end
  local profile = top.profile and tables['profiles.' .. top.profile] or {}
  local provider = profile.model_provider or top.model_provider or 'openai'
  local model = config.options.task.model or profile.model or top.model
  health.info(string.format('provider `%s`, model `%s`', provider, model or '(default)'))
  local info = tables['model_providers.' .. provider] or {}
  local env_key = info.env_key
  if provider == 'openai' then
    env_key = env_key or 'OPENAI_API_KEY'
  end
  if info.base_url then
    health.info('base_url: ' .. info.base_url)
  end
  if not env_key then
    health.ok('provider `' .. provider .. '` needs no API key')
    return
  end
  local value = config.options.cmd_env[env_key] or vim.env[env_key]
  if value and value ~= '' then
    health.ok(string.format('$%s is set', env_key))
  else
    health.error(
      string.format('$%s is not set: the provider `%s` will refuse requests', env_key, provider),
      {
        'Export it before starting Neovim',
        'or pass it to the backend: setup({ cmd_env = { ' .. env_key .. ' = "..." } })',
      }
    )
  end
end

function M.check()
  require('tandem').ensure_setup()
  check_neovim()
  local exe = check_backend()
  check_sandbox(exe)
  check_provider()
end

return M
