-- Drives `tandem lsp` with Neovim's built-in LSP client and no plugin: start a task with a
-- custom request, wait for the proposed change, then accept one hunk and reject another
-- through `vim.lsp.buf.code_action` (the action picked by `filter`, applied by `apply`), and
-- check the buffer. Run by backend/cli/tests/lsp.rs as `nvim --headless --clean -l review.lua`.
--
-- Every failure ends Neovim with a non-zero status (cquit), so the test never hangs on an
-- error; the test also wraps the whole run in `timeout`.

local function fail(msg)
  io.stderr:write('FAIL: ' .. tostring(msg) .. '\n')
  vim.cmd('cquit 1')
end

local function wait(what, cond, ms)
  if not vim.wait(ms or 20000, cond, 20) then
    fail('timed out waiting for ' .. what)
  end
end

local function run()
  local file, root = os.getenv('WORK_FILE'), os.getenv('WORK_ROOT')
  vim.cmd.edit(vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local id = vim.lsp.start({
    name = 'tandem',
    cmd = { os.getenv('TANDEM_BIN'), 'lsp' },
    root_dir = root,
    init_options = { approvalPolicy = 'untrusted', sandboxMode = 'danger-full-access' },
  }, { bufnr = buf })
  if not id then fail('vim.lsp.start returned nil') end
  wait('initialize', function()
    local c = vim.lsp.get_client_by_id(id)
    return c and c.initialized
  end)
  local client = vim.lsp.get_client_by_id(id)

  -- The version handshake a health check reads.
  local tandem = client.server_capabilities.experimental.tandem
  if tandem.protocolVersion ~= 1 then fail('protocolVersion ' .. vim.inspect(tandem)) end
  if client.offset_encoding ~= 'utf-8' then fail('encoding ' .. client.offset_encoding) end

  local function request(method, params)
    local done, result, err = false, nil, nil
    client:request(method, params, function(e, r)
      err, result, done = e, r, true
    end, buf)
    wait(method, function() return done end)
    if err then fail(method .. ': ' .. vim.inspect(err)) end
    return result
  end

  request('tandem/task/start', { prompt = 'fix greet' })
  wait('a change under review', function()
    local list = request('tandem/review/list', vim.empty_dict())
    return #list.changes > 0
  end)

  local function pick(title, line)
    vim.api.nvim_win_set_cursor(0, { line, 0 })
    vim.lsp.buf.code_action({
      filter = function(action) return action.title == title end,
      apply = true,
    })
  end

  -- Line 2 holds c1/h1: accept it; the server answers with a versioned workspace/applyEdit.
  pick('Accept change', 2)
  wait('the accepted hunk in the buffer', function()
    return vim.api.nvim_buf_get_lines(buf, 1, 2, false)[1] == '    println!("hello, {name}!");'
  end)
  -- Line 11 holds c1/h2: reject it; the buffer keeps the old text.
  pick('Reject change', 11)
  wait('the review to be resolved', function()
    local list = request('tandem/review/list', vim.empty_dict())
    return #list.changes == 0
  end)
  wait('the task to complete', function()
    local tasks = request('tandem/task/list', {}).tasks -- sent as [], as Neovim encodes {}
    return tasks[1] and tasks[1].status == 'completed'
  end)

  local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
  local want = table.concat({
    'fn greet(name: &str) {',
    '    println!("hello, {name}!");',
    '}',
    '',
    'fn a() {}',
    'fn b() {}',
    'fn c() {}',
    'fn d() {}',
    '',
    'fn answer() -> u32 {',
    '    41',
    '}',
  }, '\n')
  if text ~= want then fail('buffer:\n' .. text) end
  io.stderr:write('OK\n')
  client:stop()
  vim.cmd('qall!')
end

local ok, err = xpcall(run, debug.traceback)
if not ok then fail(err) end
