-- Inline review against the real backend: extmarks, accept/reject, re-anchoring, code actions.
local H = require('helpers')

local ORIGINAL = {
  '"""A tiny calculator, with a bug for the agent to fix."""',
  '',
  '',
  'def add(a, b):',
  '    return a - b',
  '',
  '',
  'def mul(a, b):',
  '    return a * b',
}

--- A task proposing two hunks in calc.py, reviewed before they are written.
local function two_hunks(opts)
  local env = H.env('two-hunks.toml')
  H.setup(
    env,
    vim.tbl_deep_extend(
      'force',
      { task = { approval_policy = 'untrusted', open = 'none' } },
      opts or {}
    )
  )
  local buf = H.open(env, 'calc.py')
  H.eq(ORIGINAL, H.lines(buf))
  vim.cmd('Tandem task change add and mul')
  H.wait(function()
    return require('tandem.review').count() == 2
  end, 'two pending hunks', 20000, H.diagnostics)
  return env, buf
end

local function positions(buf)
  return vim.tbl_map(function(p)
    return { p.hunk_id, p.row }
  end, require('tandem.review').positions(buf))
end

--- Waits until the drawn hunks are exactly `expected` (decided ones disappear once the backend
--- has seen their edit, a moment after the decision).
local function wait_positions(buf, expected)
  H.wait(
    function()
      return vim.deep_equal(expected, positions(buf))
    end,
    'hunks drawn at ' .. vim.inspect(expected),
    10000,
    function()
      return vim.inspect(positions(buf)) .. '\n' .. H.diagnostics()
    end
  )
end

local function task_done()
  local task = H.task()
  H.wait(
    function()
      return task and task.status == 'completed'
    end,
    'the task to complete after the review',
    20000,
    function()
      return (task and task.status or 'no task') .. '\n' .. H.diagnostics()
    end
  )
  return task
end

test('pending hunks are drawn with extmarks at their lines', function()
  local _, buf = two_hunks()
  H.eq({ { 'c1/h1', 4 }, { 'c1/h2', 8 } }, positions(buf))
  local marks = H.review_marks(buf)
  local at = {}
  for _, m in ipairs(marks) do
    at[m[2]] = at[m[2]] or {}
    table.insert(at[m[2]], m[4])
  end
  -- Row 4: the old line highlighted as removed, the new one below it as a virtual line, a sign,
  -- and the keys at the end of the line.
  local row4 = at[4]
  H.ok(row4, 'marks on row 4')
  local hl, virt, sign, hint
  for _, d in ipairs(row4) do
    hl = hl or d.hl_group
    virt = virt or d.virt_lines
    sign = sign or d.sign_text
    hint = hint or (d.virt_text and d.virt_text[1][1])
  end
  H.eq('TandemDelete', hl)
  H.eq('    return a + b', (virt[1][1][1]:gsub('%s+$', '')))
  H.eq('TandemAdd', virt[1][1][2])
  H.eq('~ ', sign)
  H.contains(hint, 'c1/h1: <leader>ay accept  <leader>ar reject')
  H.ok(at[8], 'marks on row 8')
  -- The groups link to the built-in diff groups, so colorschemes apply.
  H.eq('DiffAdd', vim.api.nvim_get_hl(0, { name = 'TandemAdd' }).link)
  H.eq('DiffDelete', vim.api.nvim_get_hl(0, { name = 'TandemDelete' }).link)
  -- The buffer still holds the old text: nothing is written before a decision.
  H.eq(ORIGINAL, H.lines(buf))
  -- Buffer-local review keys exist while hunks are pending.
  H.ok(vim.fn.maparg('<leader>ay', 'n'):find('tandem%-accept'), 'accept key on the buffer')
  H.ok(require('tandem').status():find('2 hunks', 1, true), 'status shows the hunks')

  vim.cmd('Tandem review')
  local qf = vim.fn.getqflist()
  H.eq(2, #qf)
  H.eq({ 5, 9 }, { qf[1].lnum, qf[2].lnum })
  H.contains(qf[1].text, '[c1/h1 pending]')
  -- In the quickfix window, :Tandem accept takes the entry under the cursor.
  H.eq('quickfix', vim.bo.buftype)
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  vim.cmd('Tandem accept')
  H.wait(function()
    return H.lines(buf)[9] == '    return a ** b'
  end, 'the entry hunk accepted', 10000, H.diagnostics)
  H.wait(function()
    return #vim.fn.getqflist() == 1
  end, 'the list to follow the review')
end)

test('accepting one hunk and rejecting the other leaves exactly the accepted text', function()
  local env, buf = two_hunks()
  vim.api.nvim_set_current_win(vim.fn.bufwinid(buf))
  vim.api.nvim_win_set_cursor(0, { 5, 0 })
  vim.cmd('Tandem accept')
  H.wait(function()
    return H.lines(buf)[5] == '    return a + b'
  end, 'the accepted hunk in the buffer', 10000, H.diagnostics)
  H.wait(function()
    return require('tandem.review').count() == 1
  end, 'one hunk left')
  wait_positions(buf, { { 'c1/h2', 8 } })

  vim.api.nvim_win_set_cursor(0, { 9, 0 })
  vim.cmd('Tandem reject')
  H.wait(function()
    return require('tandem.review').count() == 0
  end, 'no hunk left', 10000, H.diagnostics)
  local expected = vim.deepcopy(ORIGINAL)
  expected[5] = '    return a + b'
  H.eq(expected, H.lines(buf))
  H.eq({}, H.review_marks(buf), 'every mark is gone')
  H.eq('', vim.fn.maparg('<leader>ay', 'n'), 'the review keys are gone with the hunks')
  local task = task_done()
  require('tandem.tasks').flush(task)
  H.contains(H.lines(task.buf), 'Reviewed.')
  -- The buffer had no unsaved edits, so the backend wrote the accepted text to disk too.
  H.eq(table.concat(expected, '\n') .. '\n', env.read('calc.py'))
  -- And the buffer, equal to the disk, is not left marked as modified.
  H.wait(function()
    return not vim.bo[buf].modified
  end, 'the buffer to be unmodified once the disk holds its text')
end)

test('hunks follow lines inserted above them, and decisions still hit the right text', function()
  local _, buf = two_hunks()
  local generation = require('tandem.review').roots[vim.b[buf].tandem_root].generation
  vim.api.nvim_buf_set_lines(buf, 0, 0, false, { '# one', '# two', '# three' })
  -- The extmarks move at once, before the backend says anything.
  H.eq({ { 'c1/h1', 7 }, { 'c1/h2', 11 } }, positions(buf))
  -- The backend re-anchors too, and its ranges agree with the marks.
  H.wait(function()
    return require('tandem.review').roots[vim.b[buf].tandem_root].generation > generation
  end, 'the backend to re-anchor the hunks', 10000, H.diagnostics)
  H.eq({ { 'c1/h1', 7 }, { 'c1/h2', 11 } }, positions(buf))
  local items = require('tandem.review').items()
  H.eq({ 8, 12 }, { items[1].lnum, items[2].lnum })

  vim.api.nvim_set_current_win(vim.fn.bufwinid(buf))
  vim.api.nvim_win_set_cursor(0, { 12, 0 })
  vim.cmd('Tandem accept')
  H.wait(function()
    return H.lines(buf)[12] == '    return a ** b'
  end, 'the second hunk accepted at its new place', 10000, H.diagnostics)
  vim.api.nvim_win_set_cursor(0, { 8, 0 })
  vim.cmd('Tandem reject')
  H.wait(function()
    return require('tandem.review').count() == 0
  end, 'no hunk left', 10000, H.diagnostics)
  local expected = vim.list_extend({ '# one', '# two', '# three' }, vim.deepcopy(ORIGINAL))
  expected[12] = '    return a ** b'
  H.eq(expected, H.lines(buf))
  task_done()
end)

test('the code actions of vim.lsp.buf.code_action() accept a hunk', function()
  local _, buf = two_hunks()
  vim.api.nvim_set_current_win(vim.fn.bufwinid(buf))
  vim.api.nvim_win_set_cursor(0, { 9, 0 })
  local calls = H.stub_select(function(items)
    for _, item in ipairs(items) do
      if item.action and item.action.title == 'Accept change' then
        return item
      end
    end
  end)
  vim.lsp.buf.code_action()
  H.wait(function()
    return H.lines(buf)[9] == '    return a ** b'
  end, 'the hunk accepted through a code action', 10000, H.diagnostics)
  local titles = vim.tbl_map(function(item)
    return item.action.title
  end, calls[1].items)
  H.eq({ 'Accept change', 'Reject change', 'Accept all in file', 'Reject all in file' }, titles)
  H.wait(function()
    return require('tandem.review').count() == 1
  end, 'one hunk left')
  wait_positions(buf, { { 'c1/h1', 4 } })
end)

test('an edit inside a hunk makes it conflicted: accept is refused, reject works', function()
  local _, buf = two_hunks()
  vim.api.nvim_buf_set_lines(buf, 4, 5, false, { '    return b - a' })
  H.wait(function()
    for _, item in ipairs(require('tandem.review').items()) do
      if item.text:find('c1/h1 conflicted', 1, true) then
        return true
      end
    end
  end, 'the edited hunk to become conflicted', 10000, H.diagnostics)
  vim.api.nvim_set_current_win(vim.fn.bufwinid(buf))
  vim.api.nvim_win_set_cursor(0, { 5, 0 })
  vim.cmd('Tandem accept')
  H.wait_note('accept', 'a message saying the accept failed', 10000)
  H.eq('    return b - a', H.lines(buf)[5], 'the user edit is kept')
  vim.cmd('Tandem reject')
  H.wait(function()
    return require('tandem.review').count() == 1
  end, 'the conflicted hunk rejected', 10000, H.diagnostics)
  H.eq('    return b - a', H.lines(buf)[5], 'rejecting keeps the user edit')
end)

test('the side-by-side diff shows the proposed text, and :w in it accepts the file', function()
  local _, buf = two_hunks()
  vim.api.nvim_set_current_win(vim.fn.bufwinid(buf))
  vim.cmd('Tandem diff')
  local wins = vim.api.nvim_tabpage_list_wins(0)
  local scratch
  for _, win in ipairs(wins) do
    local b = vim.api.nvim_win_get_buf(win)
    if vim.api.nvim_buf_get_name(b):find('tandem://proposed/', 1, true) then
      scratch = b
      H.eq(true, vim.wo[win].diff, 'the proposed side is in diff mode')
    end
  end
  H.ok(scratch, 'a proposed-side buffer is shown')
  H.eq(true, vim.wo[vim.fn.bufwinid(buf)].diff, 'the file is in diff mode')
  local proposed = vim.deepcopy(ORIGINAL)
  proposed[5] = '    return a + b'
  proposed[9] = '    return a ** b'
  H.eq(proposed, H.lines(scratch))
  vim.api.nvim_buf_call(scratch, function()
    vim.cmd('write')
  end)
  H.wait(function()
    return vim.deep_equal(proposed, H.lines(buf))
  end, 'both hunks accepted by :w', 10000, H.diagnostics)
  H.wait(function()
    return require('tandem.review').count() == 0
  end, 'no hunk left')
  task_done()
end)

test(
  'apply-then-review: the written lines are highlighted, the removed ones virtual; reject reverts',
  function()
    local env = H.env('two-hunks.toml')
    H.setup(
      env,
      { task = { approval_policy = 'never', sandbox_mode = 'workspace-write', open = 'none' } }
    )
    local buf = H.open(env, 'calc.py')
    vim.cmd('Tandem task change add and mul')
    H.wait(function()
      return require('tandem.review').count() == 2
    end, 'two hunks to review after the write', 20000, H.diagnostics)
    -- The change is already in the buffer and on disk.
    H.wait(function()
      return H.lines(buf)[5] == '    return a + b' and H.lines(buf)[9] == '    return a ** b'
    end, 'the written text in the buffer', 10000, H.diagnostics)
    H.contains(env.read('calc.py'), 'return a ** b')
    -- Until the buffer shows the written text, the backend may briefly see its hunks as edited.
    H.wait(
      function()
        local items = require('tandem.review').items()
        return #items == 2 and items[1].text:find('pending') and items[2].text:find('pending')
      end,
      'both hunks pending once the buffer shows the write',
      10000,
      function()
        return vim.inspect(require('tandem.review').items()) .. '\n' .. H.diagnostics()
      end
    )
    H.eq({ { 'c1/h1', 4 }, { 'c1/h2', 8 } }, positions(buf))
    local hl, virt, above
    for _, m in ipairs(H.review_marks(buf)) do
      if m[2] == 4 then
        hl = hl or m[4].hl_group
        if m[4].virt_lines then
          virt, above = m[4].virt_lines, m[4].virt_lines_above
        end
      end
    end
    H.eq('TandemAdd', hl)
    H.eq('TandemDelete', virt[1][1][2])
    H.eq('    return a - b', (virt[1][1][1]:gsub('%s+$', '')))
    H.eq(true, above, 'the removed line is shown above the added one')

    vim.api.nvim_set_current_win(vim.fn.bufwinid(buf))
    vim.api.nvim_win_set_cursor(0, { 9, 0 })
    vim.cmd('Tandem reject')
    H.wait(function()
      return H.lines(buf)[9] == '    return a * b'
    end, 'the rejected hunk reverted', 10000, H.diagnostics)
    vim.api.nvim_win_set_cursor(0, { 5, 0 })
    vim.cmd('Tandem accept')
    H.wait(function()
      return require('tandem.review').count() == 0
    end, 'no hunk left', 10000, H.diagnostics)
    local expected = vim.deepcopy(ORIGINAL)
    expected[5] = '    return a + b'
    H.eq(expected, H.lines(buf))
    H.wait(function()
      return env.read('calc.py') == table.concat(expected, '\n') .. '\n'
    end, 'the disk to follow the reverted hunk')
  end
)
