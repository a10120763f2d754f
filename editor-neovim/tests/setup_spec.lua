-- setup(): defaults, validation messages, keymaps that can be changed and removed.
local H = require('helpers')

test('setup with no options uses the defaults and maps the default keys', function()
  H.eq(true, require('tandem').setup())
  H.defer(H.stop_all)
  local config = require('tandem.config').options
  H.eq({ 'tandem', 'lsp' }, config.cmd)
  H.eq(150, config.context.debounce_ms)
  H.eq('split', config.task.open)
  H.ok(vim.fn.maparg('<leader>aa', 'n'):find('tandem%-palette'), 'palette keymap')
  H.eq(0, #H.notes, 'no notification for valid options')
end)

test('wrong types are reported in one message naming each option, defaults stand in', function()
  local ok = require('tandem').setup({
    cmd = 'tandem lsp',
    context = { debounce_ms = 'fast', enabled = 1 },
    task = { sandbox_mode = 'yolo', open = 'float' },
    review = { inline = false },
    revew = {},
    keymaps = { accept = 42 },
  })
  H.defer(H.stop_all)
  H.eq(false, ok)
  H.eq(1, #H.notes, 'exactly one notification')
  H.eq(vim.log.levels.ERROR, H.notes[1].level)
  local msg = H.notes[1].msg
  H.contains(msg, '`cmd` must be a list of strings, got string "tandem lsp"')
  H.contains(msg, '`context.debounce_ms` must be a whole number >= 0, got string "fast"')
  H.contains(msg, '`context.enabled` must be true or false, got number 1')
  H.contains(
    msg,
    '`task.sandbox_mode` must be one of "read-only", "workspace-write", "danger-full-access", got string "yolo"'
  )
  H.contains(msg, 'unknown option `revew` (did you mean `review`?)')
  H.contains(msg, '`keymaps.accept` must be a key sequence (string) or false, got number 42')
  local config = require('tandem.config').options
  H.eq({ 'tandem', 'lsp' }, config.cmd, 'the default replaces a wrong value')
  H.eq(150, config.context.debounce_ms)
  H.eq('float', config.task.open, 'valid values around wrong ones are kept')
  H.eq(false, config.review.inline)
end)

test('setup with a non-table says so', function()
  H.eq(false, require('tandem').setup('yes'))
  H.defer(H.stop_all)
  H.contains(H.notes[1].msg, 'setup() takes a table of options, got string "yes"')
end)

test('keymaps can be changed one by one, or all removed', function()
  require('tandem').setup({ keymaps = { palette = '<leader>P', task = false } })
  H.defer(H.stop_all)
  H.ok(vim.fn.maparg('<leader>P', 'n'):find('tandem%-palette'), 'palette moved')
  H.eq('', vim.fn.maparg('<leader>aa', 'n'), 'old palette key gone')
  H.eq('', vim.fn.maparg('<leader>an', 'n'), 'task key removed')
  require('tandem').setup({ keymaps = false })
  H.eq('', vim.fn.maparg('<leader>P', 'n'), 'every key removed')
  H.eq('', vim.fn.maparg('<leader>at', 'n'))
  -- The <Plug> mappings stay, for users who map their own keys.
  H.ok(vim.fn.maparg('<Plug>(tandem-accept)', 'n') ~= '', '<Plug>(tandem-accept) exists')
end)

test(':Tandem completes its actions and their arguments', function()
  require('tandem').setup()
  H.defer(H.stop_all)
  local names = vim.fn.getcompletion('Tandem ', 'cmdline')
  for _, want in ipairs({
    'task',
    'tasks',
    'review',
    'accept',
    'reject',
    'accept_file',
    'reject_file',
    'context',
    'cancel',
    'diff',
    'restart',
    'approvals',
  }) do
    H.ok(vim.tbl_contains(names, want), 'completion has ' .. want .. ': ' .. vim.inspect(names))
  end
  H.eq({ 'accept', 'accept_file' }, vim.fn.getcompletion('Tandem acc', 'cmdline'))
  H.eq({ 'on', 'off', 'toggle' }, vim.fn.getcompletion('Tandem context ', 'cmdline'))
end)

test(':Tandem with no argument offers every action through vim.ui.select', function()
  require('tandem').setup()
  H.defer(H.stop_all)
  local calls = H.stub_select(function()
    return nil
  end)
  vim.cmd('Tandem')
  H.eq(1, #calls)
  local shown = vim.tbl_map(function(a)
    return calls[1].opts.format_item(a)
  end, calls[1].items)
  H.eq(#require('tandem.palette').actions, #shown)
  H.contains(shown, 'accept_file')
  H.contains(shown, 'New task')
end)

test('doc/tandem.txt documents every option (scripts/gen_doc.lua) and has valid tags', function()
  local gen = dofile(H.plugin_dir .. '/scripts/gen_doc.lua')
  local generated, current = gen.generate()
  H.eq(
    table.concat(generated, '\n'),
    table.concat(current, '\n'),
    'doc/tandem.txt is out of date: run nvim --headless --clean -l editor-neovim/scripts/gen_doc.lua'
  )
  -- :helptags fails on duplicate tags; build them in a copy of doc/.
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, 'p')
  vim.fn.writefile(vim.fn.readfile(gen.doc_path), dir .. '/tandem.txt')
  vim.cmd('helptags ' .. vim.fn.fnameescape(dir))
  local tags = vim.fn.readfile(dir .. '/tags')
  H.ok(#tags > 50, 'tags were generated')
  -- Every |link| in the file points at a tag of the file or of Neovim's own help.
  local known = {}
  for _, line in ipairs(tags) do
    known[line:match('^[^\t]+')] = true
  end
  local text = table.concat(vim.fn.readfile(gen.doc_path), '\n')
  for link in text:gmatch('|([%w%.%-_:()]+)|') do
    if link:find('tandem', 1, true) and not link:find('^:') then
      H.ok(known[link], 'the link |' .. link .. '| has a tag')
    end
  end
end)
