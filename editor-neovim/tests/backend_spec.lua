-- The backend's life: one per root, a crash that is seen and recovered, a missing binary.
local H = require('helpers')

local function pending(n)
  H.wait(function()
    return require('tandem.review').count() == n
  end, n .. ' pending hunks', 20000, H.diagnostics)
end

test('one backend per workspace root, reused by every buffer in it', function()
  local env = H.env('fix-calc.toml')
  H.setup(env)
  local a, client = H.open(env, 'calc.py')
  local b, other = H.open(env, 'test_calc.py')
  H.eq(client.id, other.id, 'the same client serves both buffers')
  H.eq(1, #vim.lsp.get_clients({ name = 'tandem' }))
  H.ok(vim.lsp.buf_is_attached(a, client.id) and vim.lsp.buf_is_attached(b, client.id))
  H.eq(env.work, client.root_dir)
  -- The handshake: the extensions are on.
  H.eq(true, require('tandem.lsp').backends[env.work].extensions)
  H.eq('utf-8', client.offset_encoding)
end)

test(
  'a crashed backend is reported, its hunks stay visible, and :Tandem restart recovers',
  function()
    local env = H.env('two-hunks.toml')
    H.setup(env, { task = { approval_policy = 'untrusted', open = 'none' } })
    local buf, client = H.open(env, 'calc.py')
    vim.cmd('Tandem task change add and mul')
    pending(2)

    local pid = H.ok(H.backend_pid(), 'the backend runs as a child of Neovim')
    vim.uv.kill(pid, 'sigkill')

    local note = H.wait_note('stopped unexpectedly', 'a crash notification')
    H.eq(vim.log.levels.ERROR, note.level)
    H.contains(note.msg, 'signal 9')
    H.contains(note.msg, ':Tandem restart')
    H.contains(require('tandem').status(), 'backend crashed')
    H.eq('interrupted', H.task().status)
    -- The hunks stay on screen, marked as belonging to a stopped backend.
    H.eq(2, #require('tandem.review').positions(buf))
    local hints = {}
    for _, m in ipairs(H.review_marks(buf)) do
      if m[4].virt_text then
        table.insert(hints, m[4].virt_text[1][1])
      end
    end
    H.contains(hints, 'backend stopped, :Tandem restart')
    -- The buffer is untouched: approve-before-write never wrote anything.
    H.eq('    return a - b', H.lines(buf)[5])

    vim.cmd('Tandem restart')
    H.wait_note('is running again', 'the restart to finish', 15000)
    local new = H.wait(function()
      local c = vim.lsp.get_clients({ name = 'tandem', bufnr = buf })[1]
      return c and c.initialized and c
    end, 'a new client attached to the buffer')
    H.ok(new.id ~= client.id, 'a new client')
    -- The new backend holds no pending hunks: the stale marks are cleared from its list.
    pending(0)
    H.eq({}, H.review_marks(buf))
    H.eq('', require('tandem').status():match('crashed') or '')
    -- And it works: the next task runs (the scenario's remaining step answers it).
    require('tandem').task('are you back?')
    H.wait(function()
      local t = require('tandem.tasks').list()[1]
      return t and t.client_id == new.id and t.status == 'completed'
    end, 'a task on the new backend', 20000, H.diagnostics)
  end
)

test('restarting a backend that holds pending hunks asks first; keeping it keeps them', function()
  local env = H.env('two-hunks.toml')
  H.setup(env, { task = { approval_policy = 'untrusted', open = 'none' } })
  local buf, client = H.open(env, 'calc.py')
  vim.cmd('Tandem task change add and mul')
  pending(2)
  local calls = H.stub_select(function(items)
    return items[2] -- "Keep the backend running"
  end)
  vim.cmd('Tandem restart')
  H.wait(function()
    return #calls == 1
  end, 'the question')
  H.contains(calls[1].opts.prompt, 'The backend holds 2 pending hunks; a restart discards them.')
  vim.wait(200)
  H.eq(client.id, vim.lsp.get_clients({ name = 'tandem', bufnr = buf })[1].id, 'the same backend')
  H.eq(2, require('tandem.review').count())
end)

test(
  'a missing backend binary gets an actionable message; fixing cmd and restarting recovers',
  function()
    local env = H.env('fix-calc.toml')
    H.setup(env, { cmd = { '/nonexistent/tandem', 'lsp' } })
    vim.cmd.edit(env.file('calc.py'))
    local note = H.wait_note('was not found', 'a missing-binary notification')
    H.eq(vim.log.levels.ERROR, note.level)
    H.contains(note.msg, '`/nonexistent/tandem`')
    H.contains(note.msg, "require('tandem').setup()")
    H.contains(note.msg, ':Tandem restart')
    H.contains(require('tandem').status(), 'backend missing')

    H.setup(env)
    vim.cmd('Tandem restart')
    H.wait(function()
      local c = vim.lsp.get_clients({ name = 'tandem', bufnr = 0 })[1]
      return c and c.initialized
    end, 'the backend to start once cmd is right', 15000, H.diagnostics)
    H.eq('', require('tandem').status():match('missing') or '')
  end
)
