-- Defines `:Tandem` and the `<Plug>(tandem-*)` mappings; every module loads on first use.
if vim.g.loaded_tandem then
  return
end
vim.g.loaded_tandem = true

if vim.fn.has('nvim-0.10') == 0 then
  vim.api.nvim_create_user_command('Tandem', function()
    vim.notify('Tandem needs Neovim 0.10 or newer', vim.log.levels.ERROR)
  end, { nargs = '*' })
  return
end

vim.api.nvim_create_user_command('Tandem', function(cmd)
  require('tandem.palette').command(cmd)
end, {
  nargs = '*',
  range = true,
  desc = 'Tandem: the command palette, or :Tandem {action}',
  complete = function(arglead, cmdline)
    return require('tandem.palette').complete(arglead, cmdline)
  end,
})

-- One <Plug> mapping per action; the names match `:Tandem {action}` with `-` for `_`.
for _, name in ipairs({
  'palette',
  'task',
  'tasks',
  'cancel',
  'resume',
  'review',
  'accept',
  'reject',
  'accept-file',
  'reject-file',
  'next-hunk',
  'prev-hunk',
  'diff',
  'undo-turn',
  'context',
  'approvals',
  'restart',
}) do
  vim.keymap.set({ 'n', 'x' }, '<Plug>(tandem-' .. name .. ')', function()
    require('tandem.palette').run(name:gsub('-', '_'), '')
  end, { desc = 'Tandem: ' .. name })
end
