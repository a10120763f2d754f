-- Auto Context: debounced `tandem/focus`, and `:Tandem context` showing the backend's preview.
local H = require('helpers')

--- Records the focus notifications the plugin sends (and still sends them).
local function spy_focus()
  local util = require('tandem.util')
  local real = util.notify_server
  local sent = {}
  util.notify_server = function(client, method, params)
    if method == 'tandem/focus' then
      table.insert(sent, params)
    end
    return real(client, method, params)
  end
  H.defer(function()
    util.notify_server = real
  end)
  return sent
end

local function preview_text(range)
  vim.cmd((range or '') .. 'Tandem context')
  local buf = H.wait(function()
    local b = vim.fn.bufnr('tandem://context')
    return b ~= -1 and #table.concat(H.lines(b), '') > 0 and b
  end, 'the context preview')
  local text = table.concat(H.lines(buf), '\n')
  -- Empty it, so the next call waits for the next preview.
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, {})
  return text
end

test('cursor moves send one debounced focus notification, never blocking', function()
  local env = H.env('fix-calc.toml')
  H.setup(env, { context = { debounce_ms = 100 } })
  local buf = H.open(env, 'calc.py')
  local sent = spy_focus()
  vim.wait(150)
  local before = #sent
  for row = 1, 9 do
    vim.api.nvim_win_set_cursor(0, { row, 0 })
    local t0 = vim.uv.hrtime()
    vim.api.nvim_exec_autocmds('CursorMoved', {})
    H.ok((vim.uv.hrtime() - t0) / 1e6 < 20, 'the autocommand returns at once')
  end
  H.wait(function()
    return #sent > before
  end, 'a focus notification')
  vim.wait(250)
  H.eq(before + 1, #sent, 'nine moves, one notification')
  local last = sent[#sent]
  H.eq(vim.uri_from_bufnr(buf), last.uri)
  H.eq({ line = 8, character = 0 }, last.position)
  H.eq({ { start = last.position, ['end'] = last.position } }, last.selections)
  H.eq(0, last.visibleRanges[1].start.line)
end)

test(':Tandem context shows exactly what the next turn carries, and excludes secrets', function()
  local env = H.env('fix-calc.toml')
  local fd = assert(io.open(env.file('.env'), 'w'))
  fd:write('OPENAI_API_KEY=sk-secret\n')
  fd:close()
  H.setup(env)
  H.open(env, '.env')
  H.open(env, 'calc.py')
  vim.api.nvim_win_set_cursor(0, { 5, 4 })
  local text = preview_text()
  H.contains(text, 'Auto Context: ')
  H.contains(text, '## focus  calc.py')
  H.contains(text, 'return a - b')
  H.contains(text, '## excluded')
  H.contains(text, '- .env: looks like a secret (.env)')
  H.ok(not text:find('sk-secret', 1, true), 'the secret is never shown or sent')

  -- A range given to a command goes along as the selection.
  text = preview_text('8,9')
  H.contains(text, '## selection  calc.py:8-9')
  H.contains(text, 'def mul(a, b):')
end)

test(':Tandem context off turns Auto Context off for the session', function()
  local env = H.env('fix-calc.toml')
  H.setup(env)
  H.open(env, 'calc.py')
  vim.cmd('Tandem context off')
  H.wait_note('Auto Context is off', 'the toggle to be confirmed')
  H.contains(preview_text(), 'Auto Context is off: nothing is attached to the next turn.')
  local sent = spy_focus()
  vim.api.nvim_exec_autocmds('CursorMoved', {})
  vim.wait(300)
  H.eq(0, #sent, 'no focus is sent while it is off')
  vim.cmd('Tandem context on')
  H.wait_note('Auto Context is on', 'the toggle back')
  H.contains(preview_text(), '## focus  calc.py')
end)

test("other servers' diagnostics are forwarded and reach the context", function()
  local env = H.env('fix-calc.toml')
  H.setup(env, { context = { debounce_ms = 50 } })
  local buf = H.open(env, 'calc.py')
  vim.api.nvim_win_set_cursor(0, { 5, 0 })
  local ns = vim.api.nvim_create_namespace('some-other-linter')
  vim.diagnostic.set(ns, buf, {
    {
      lnum = 4,
      col = 11,
      end_col = 16,
      severity = vim.diagnostic.severity.ERROR,
      message = 'add() subtracts',
      source = 'lint',
    },
  })
  vim.wait(200)
  local text = preview_text()
  H.contains(text, '## diagnostics  calc.py')
  H.contains(text, 'add() subtracts')
end)
