-- The test runner: loads the plugin into this headless Neovim, runs one spec file, reports.
--
-- Usage: nvim --headless --clean -l tests/runner.lua tests/foo_spec.lua
-- Prints `ok - name` or `not ok - name` per test, then `# N passed, N failed`; exits 1 when a
-- test failed. Tests run in order and share the Neovim instance; `after` hooks run after each.
local spec = assert(arg[1], 'usage: runner.lua SPEC')
local tests_dir = vim.fs.dirname(vim.fs.normalize(debug.getinfo(1, 'S').source:sub(2)))
local plugin_dir = vim.fs.dirname(tests_dir)

-- Opening a Python file probes for the Python provider (2 s); the tests never need it.
vim.g.loaded_python3_provider = 0
vim.opt.runtimepath:prepend(plugin_dir)
package.path = tests_dir .. '/?.lua;' .. package.path
vim.cmd('runtime! plugin/tandem.lua')

local function out(line)
  io.stdout:write(line, '\n')
  io.stdout:flush()
end

-- Messages printed by Neovim itself (such as vim.lsp's "Workspace edit ...") go to stderr, so
-- they never break the result lines on stdout.
_G.print = function(...)
  local parts = {}
  for i = 1, select('#', ...) do
    table.insert(parts, tostring((select(i, ...))))
  end
  io.stderr:write(table.concat(parts, ' '), '\n')
end

local tests = {}
local only = vim.env.TANDEM_TEST_FILTER

--- Registers a test. The spec files call this as `test(name, fn)`.
---@param name string
---@param fn fun()
_G.test = function(name, fn)
  if not only or name:find(only, 1, true) then
    table.insert(tests, { name = name, fn = fn })
  end
end

local helpers = require('helpers')

local ok_load, load_err = xpcall(dofile, debug.traceback, spec)
if not ok_load then
  out('not ok - load ' .. spec)
  out('# ' .. tostring(load_err):gsub('\n', '\n# '))
  out('# 0 passed, 1 failed')
  vim.cmd('cquit 1')
end

local passed, failed = 0, 0
for _, t in ipairs(tests) do
  local started = vim.uv.hrtime()
  local ok, err = xpcall(t.fn, debug.traceback)
  local cleanup_ok, cleanup_err = xpcall(helpers.after_each, debug.traceback)
  if ok and not cleanup_ok then
    ok, err = false, 'cleanup failed: ' .. tostring(cleanup_err)
  end
  local ms = math.floor((vim.uv.hrtime() - started) / 1e6)
  if ok then
    passed = passed + 1
    out(string.format('ok - %s (%d ms)', t.name, ms))
  else
    failed = failed + 1
    out(string.format('not ok - %s (%d ms)', t.name, ms))
    out('# ' .. tostring(err):gsub('\n', '\n# '))
    local notes = helpers.diagnostics()
    if notes ~= '' then
      out('# ' .. notes:gsub('\n', '\n# '))
    end
  end
end

helpers.finish()
out(string.format('# %d passed, %d failed', passed, failed))
vim.cmd(failed > 0 and 'cquit 1' or 'qall!')
