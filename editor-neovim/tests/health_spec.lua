-- `:checkhealth tandem` against the real binary: version, handshake, sandbox probe, provider.
local H = require('helpers')

local function checkhealth()
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.bo[b].filetype == 'checkhealth' then
      vim.api.nvim_buf_delete(b, { force = true })
    end
  end
  vim.cmd('checkhealth tandem')
  local buf = H.wait(function()
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      if vim.bo[b].filetype == 'checkhealth' then
        local text = table.concat(H.lines(b), '\n')
        if text:find('Model provider', 1, true) then
          return b
        end
      end
    end
  end, 'the health report', 30000)
  return table.concat(H.lines(buf), '\n')
end

test(
  ':checkhealth tandem reports Neovim, the backend handshake, the sandbox and the provider',
  function()
    local env = H.env('fix-calc.toml')
    H.setup(env)
    local report = checkhealth()
    H.contains(report, 'OK Neovim ' .. vim.version().major .. '.' .. vim.version().minor)
    H.contains(report, 'OK command: ' .. H.tandem .. ' lsp')
    H.contains(report, 'OK version: tandem ')
    H.contains(report, 'OK handshake: tandem ')
    H.contains(report, 'protocol 1, 15 custom methods')
    H.contains(report, 'position encoding: utf-8')
    -- The sandbox probe: this is whatever the kernel enforces, named layer by layer.
    H.contains(report, 'Sandbox')
    H.ok(report:find('enforced [%w_]+') ~= nil, 'the enforced layers are listed:\n' .. report)
    H.contains(report, 'enforcement for workspace-write:')
    -- The provider of the env's config.toml, which needs no key.
    H.contains(report, 'OK config: ' .. env.home .. '/config.toml')
    H.contains(report, 'provider `scripted`, model `scripted-model`')
    H.contains(report, 'OK provider `scripted` needs no API key')
    H.contains(report, 'plugin log: ')
  end
)

test(
  ':checkhealth tandem says when the API key is missing and when the binary is missing',
  function()
    local env = H.env('fix-calc.toml')
    local fd = assert(io.open(env.home .. '/config.toml', 'w'))
    fd:write(table.concat({
      'model = "some-model"',
      'model_provider = "keyed"',
      '[model_providers.keyed]',
      'name = "Keyed"',
      'base_url = "http://127.0.0.1:9/v1"',
      'env_key = "TANDEM_TEST_KEY"',
      '',
    }, '\n'))
    fd:close()
    H.setup(env)
    local report = checkhealth()
    vim.cmd('tabclose')
    H.contains(report, 'provider `keyed`, model `some-model`')
    H.contains(
      report,
      'ERROR $TANDEM_TEST_KEY is not set: the provider `keyed` will refuse requests'
    )

    H.setup(env, { cmd_env = { TANDEM_TEST_KEY = 'sk-test' } })
    report = checkhealth()
    vim.cmd('tabclose')
    H.contains(report, 'OK $TANDEM_TEST_KEY is set')

    H.setup(env, { cmd = { '/nonexistent/tandem', 'lsp' } })
    report = checkhealth()
    H.contains(report, 'ERROR `/nonexistent/tandem` not found')
    H.contains(report, 'cargo build --release -p tandem-cli')
    H.contains(report, 'skipped: no backend binary')
  end
)
