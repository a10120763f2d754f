-- Approvals from the real backend, answered through vim.ui.select (stubbed: Neovim's UI hook).
local H = require('helpers')

local function text_of(task)
  require('tandem.tasks').flush(task)
  return table.concat(H.lines(task.buf), '\n')
end

test('a whole task: review its hunk inline, approve its command through vim.ui.select', function()
  local env = H.env('fix-calc.toml')
  H.setup(env, { task = { approval_policy = 'untrusted', sandbox_mode = 'workspace-write' } })
  local buf = H.open(env, 'calc.py')
  local asked = H.stub_select(function(items, opts)
    if opts.kind == 'tandem.approval' then
      return 'allow_once'
    end
  end)
  vim.cmd('Tandem task fix the add bug')

  -- The patch waits for a review: accept its one hunk where it is drawn.
  H.wait(function()
    return require('tandem.review').count() == 1
  end, 'the patch as a pending hunk', 20000, H.diagnostics)
  local pos = require('tandem.review').positions(buf)[1]
  H.eq(4, pos.row)
  vim.api.nvim_set_current_win(vim.fn.bufwinid(buf))
  vim.api.nvim_win_set_cursor(0, { pos.row + 1, 0 })
  vim.cmd('Tandem accept')

  -- Then the tests need approval; the stub answers "allow once".
  local task = H.task()
  H.wait(
    function()
      return task.status == 'completed'
    end,
    'the task to complete',
    30000,
    function()
      return task.status .. '\n' .. text_of(task) .. '\n' .. H.diagnostics()
    end
  )
  H.eq(1, #asked, 'one approval was asked')
  local call = asked[1]
  H.eq('tandem.approval', call.opts.kind)
  H.contains(call.opts.prompt, 'wants to run a command')
  H.contains(call.opts.prompt, '$ python3 -m unittest -q')
  H.contains(call.opts.prompt, 'in ' .. vim.fn.fnamemodify(env.work, ':~:.'))
  H.contains(call.opts.prompt, 'why: approval_policy is `untrusted`')
  H.eq({ 'allow_once', 'allow_session', 'deny', 'cancel' }, call.items)
  H.eq(
    { 'Allow once', 'Allow for this session', 'Deny', 'Deny and stop the task' },
    vim.tbl_map(call.opts.format_item, call.items)
  )

  local text = text_of(task)
  H.contains(text, '$ python3 -m unittest -q  (exit 0)')
  H.contains(text, '    OK')
  H.contains(text, 'Fixed `add()` in calc.py')
  H.eq('    return a + b', H.lines(buf)[5])
  H.contains(env.read('calc.py'), 'return a + b')
  H.eq(0, #require('tandem.approvals').queue)
end)

test(
  'approvals wait in a queue, one picker at a time; a dismissed one is postponed, not lost',
  function()
    local env = H.env('two-commands.toml')
    H.setup(env, {
      task = { approval_policy = 'untrusted', sandbox_mode = 'workspace-write', open = 'none' },
    })
    H.open(env, 'calc.py')
    -- The stub keeps the pickers open until the test answers them.
    local open = {}
    vim.ui.select = function(items, opts, on_choice)
      table.insert(open, { items = items, opts = opts, answer = on_choice })
    end
    require('tandem').task('first')
    require('tandem').task('second')
    H.wait(function()
      return #require('tandem.approvals').queue == 2
    end, 'two approvals queued', 20000, H.diagnostics)
    vim.wait(100)
    H.eq(1, #open, 'only one picker at a time')
    H.contains(require('tandem').status(), '2 approvals')

    -- Dismissing the picker postpones the request: it stays queued and the next one is asked.
    open[1].answer(nil, nil)
    H.wait_note('approval postponed', 'a note about the postponed approval')
    H.wait(function()
      return #open == 2
    end, 'the second approval to be asked')
    H.eq(2, #require('tandem.approvals').queue, 'nothing was lost')
    open[2].answer('allow_once', 1)
    H.wait(function()
      return #require('tandem.approvals').queue == 1
    end, 'the second approval answered')

    -- :Tandem approvals asks the postponed one again.
    vim.cmd('Tandem approvals')
    H.wait(function()
      return #open == 3
    end, 'the postponed approval asked again')
    H.eq(open[1].opts.prompt, open[3].opts.prompt)
    open[3].answer('deny', 3)
    H.wait(function()
      local tasks = require('tandem.tasks').list()
      return #tasks == 2 and tasks[1].status == 'completed' and tasks[2].status == 'completed'
    end, 'both tasks to complete', 20000, H.diagnostics)
    local outputs = {}
    for _, task in ipairs(require('tandem.tasks').list()) do
      require('tandem.tasks').buffer(task)
      table.insert(outputs, text_of(task))
    end
    local all = table.concat(outputs, '\n')
    H.contains(all, '(exit 0)')
    H.contains(all, '    42')
    H.contains(all, '(declined)')
    H.eq('', require('tandem').status():match('approval') or '')
  end
)

test('an approval never pops up in Insert mode: it waits for Normal mode', function()
  local env = H.env('two-commands.toml')
  H.setup(env, {
    task = { approval_policy = 'untrusted', sandbox_mode = 'workspace-write', open = 'none' },
  })
  H.open(env, 'calc.py')
  local asked = H.stub_select(function(items, opts)
    return opts.kind == 'tandem.approval' and 'allow_once' or nil
  end)
  -- Pretend the user is typing (headless Neovim has no real Insert mode to enter here).
  local real_get_mode = vim.api.nvim_get_mode
  vim.api.nvim_get_mode = function()
    return { mode = 'i', blocking = false }
  end
  H.defer(function()
    vim.api.nvim_get_mode = real_get_mode
  end)
  require('tandem').task('run something')
  H.wait(function()
    return #require('tandem.approvals').queue == 1
  end, 'an approval queued', 20000, H.diagnostics)
  vim.wait(200)
  H.eq(0, #asked, 'no picker while typing')

  vim.api.nvim_get_mode = real_get_mode
  vim.api.nvim_exec_autocmds('ModeChanged', { pattern = 'i:n' })
  H.wait(function()
    return #asked >= 1
  end, 'the picker once back in Normal mode')
  H.wait(function()
    local t = H.task()
    return t and t.status == 'completed'
  end, 'the task to complete', 20000, H.diagnostics)
end)

test('an approval nobody answers leaves the queue when the backend stops waiting for it', function()
  local env = H.env('slow-after-deny.toml')
  H.setup(env, {
    task = { approval_policy = 'untrusted', sandbox_mode = 'workspace-write', open = 'none' },
    approvals = { auto_open = false, timeout_seconds = 1 },
  })
  H.open(env, 'calc.py')
  require('tandem').task('first')
  H.wait(function()
    return #require('tandem.approvals').queue == 1
  end, 'an approval queued', 20000, H.diagnostics)
  H.contains(require('tandem').status(), '1 approval')
  -- Nobody answers: after the timeout the backend denies it and goes on (its model takes 3 s
  -- more), and the editor forgets the question too, while the task still runs.
  H.wait_note('counted as a deny', 'a note that the approval timed out', 2500)
  H.eq(0, #require('tandem.approvals').queue)
  H.eq('', require('tandem').status():match('approval') or '')
  local task = H.task()
  H.eq('running', task.status)
  H.wait(function()
    return task.status == 'completed'
  end, 'the task to go on and complete', 20000, H.diagnostics)
  H.contains(text_of(task), '(declined)')
end)
