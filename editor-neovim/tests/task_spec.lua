-- Tasks: `:Tandem task` starts one on the real backend; its stream fills the task buffer.
local H = require('helpers')

test(':Tandem task streams messages, the plan, commands and their output into a buffer', function()
  local env = H.env('fix-calc.toml')
  H.setup(env, { task = { approval_policy = 'never', sandbox_mode = 'workspace-write' } })
  local src = H.open(env, 'calc.py')

  vim.cmd('Tandem task fix the add bug')

  local task = H.wait(function()
    return H.task()
  end, 'a task to start', 10000, H.diagnostics)
  H.eq(
    'fix the add bug',
    H.wait(function()
      return task.prompt
    end, 'the task to know its prompt')
  )
  H.ok(task.buf and vim.api.nvim_buf_is_valid(task.buf), 'the task has a buffer')
  H.ok(vim.fn.bufwinid(task.buf) ~= -1, 'the task buffer is shown in a window')
  H.eq(src, vim.api.nvim_get_current_buf(), 'the cursor stays in the edited buffer')

  -- The stream arrives while the editor keeps running: the buffer fills in step by step.
  H.wait(
    function()
      return table.concat(H.lines(task.buf), '\n'):find('$ cat calc.py', 1, true)
    end,
    'the first command in the task buffer',
    20000,
    function()
      return table.concat(H.lines(task.buf), '\n')
    end
  )
  H.wait(
    function()
      return task.status == 'completed'
    end,
    'the task to complete',
    30000,
    function()
      return task.status .. '\n' .. table.concat(H.lines(task.buf), '\n')
    end
  )
  require('tandem.tasks').flush(task)
  local text = table.concat(H.lines(task.buf), '\n')
  H.contains(text, 'Task ' .. task.id .. '  [completed]')
  H.contains(text, '> fix the add bug')
  -- The plan as a checklist, in its latest state.
  H.contains(text, 'Plan (2/3)')
  H.contains(text, '  - [x] Read calc.py')
  H.contains(text, '  - [x] Fix add()')
  H.contains(text, '  - [ ] Run the tests')
  -- Commands with their exit codes and output.
  H.contains(text, '$ cat calc.py')
  H.contains(text, '    def add(a, b):')
  H.contains(text, '$ python3 -m unittest -q  (exit 0)')
  H.contains(text, '    OK')
  -- The file change, and the final answer.
  H.contains(text, '* update calc.py')
  H.contains(text, 'Fixed `add()` in calc.py')
  H.contains(text, '-- turn completed')
  H.eq('completed', task.status)
  H.eq(
    '',
    require('tandem').status():match('running') or '',
    'the statusline no longer says running'
  )
end)

test('the task buffer is redrawn in place, not rebuilt, as items stream', function()
  local env = H.env('fix-calc.toml')
  H.setup(env, {
    task = { approval_policy = 'never', sandbox_mode = 'workspace-write', open = 'none' },
  })
  H.open(env, 'calc.py')
  require('tandem').task('fix the add bug')
  local task = H.wait(function()
    return H.task()
  end, 'a task')
  H.wait(function()
    return task.status == 'completed'
  end, 'the task to complete', 30000)
  local buf = require('tandem.tasks').buffer(task)
  H.wait(function()
    return not task.dirty
  end, 'the throttled redraw to catch up')
  local before = H.lines(buf)
  H.contains(before, '-- turn completed')
  -- A flush with nothing new leaves the buffer as it is.
  require('tandem.tasks').flush(task)
  H.eq(before, H.lines(buf))
  H.eq(false, vim.bo[buf].modifiable, 'the task buffer is read-only')
  H.eq('tandem-task', vim.bo[buf].filetype)
  vim.cmd('Tandem tasks')
  H.ok(vim.fn.bufwinid(buf) ~= -1, ':Tandem tasks shows the stream')
end)

test('an answer appears in the buffer piece by piece while the task still runs', function()
  local env = H.env('slow-stream.toml')
  H.setup(env)
  H.open(env, 'calc.py')
  vim.cmd('Tandem task talk slowly')
  local task = H.wait(function()
    return H.task()
  end, 'a task')
  -- The model pauses mid-answer: the first part is already in the buffer, the rest is not.
  H.wait(function()
    local text = task.buf and table.concat(H.lines(task.buf), '\n') or ''
    return text:find('First part', 1, true) and task.status == 'running'
  end, 'the first part of the answer while the task runs', 10000, H.diagnostics)
  H.ok(not table.concat(H.lines(task.buf), '\n'):find('second part', 1, true), 'not the rest yet')
  H.contains(require('tandem').status(), 'running')
  H.wait(function()
    return task.status == 'completed'
  end, 'the task to complete', 15000)
  require('tandem.tasks').flush(task)
  H.contains(H.lines(task.buf), 'First part of the answer. Then, after a pause, the second part.')
end)

test(':Tandem cancel interrupts the running task', function()
  local env = H.env('slow-stream.toml')
  H.setup(env, { task = { open = 'none' } })
  H.open(env, 'calc.py')
  vim.cmd('Tandem task talk slowly')
  local task = H.wait(function()
    local t = H.task()
    return t and t.items and next(t.items) and t
  end, 'the task to start answering', 10000, H.diagnostics)
  vim.cmd('Tandem cancel')
  H.wait_note('cancelled ' .. task.id, 'the cancel to be confirmed')
  H.wait(
    function()
      return task.status == 'cancelled'
    end,
    'the task to end as cancelled',
    10000,
    function()
      return task.status .. '\n' .. H.diagnostics()
    end
  )
  H.contains(task.error, 'interrupted')
  local buf = require('tandem.tasks').buffer(task)
  H.contains(H.lines(buf), '-- cancelled: ')
end)
